/**
 * The standalone server: the HTTP API of SPEC §4 on Javalin, the webhook route, health, readiness
 * and Prometheus metrics, and the server {@code main}. {@link dev.changesync.http.ChangesyncServer}
 * is the entry point; everything else is package-private.
 *
 * <p>The adapter is thin: handlers parse path parameters and bodies with the engine's {@code
 * Inputs}, call one engine service, and write its record as JSON through {@code ApiJson}'s mapper
 * (snake_case, RFC 3339 UTC). Failures are the engine's {@code ServiceException}s, mapped to a
 * status and {@code {"message": "..."}} in one place; anything unexpected is a 500 whose body
 * says only "internal server error" (the details go to the log).
 */
package dev.changesync.http;
