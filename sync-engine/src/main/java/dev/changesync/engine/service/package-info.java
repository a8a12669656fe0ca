/**
 * The services the HTTP and CLI adapters call — no SQL and no lease logic above this package.
 *
 * <ul>
 *   <li>{@link dev.changesync.engine.service.StatusService}: repository status (every SPEC §4
 *       field), pull request status, snapshot and files.
 *   <li>{@link dev.changesync.engine.service.AdminService}: track / configure backfill, request a
 *       fetch.
 *   <li>{@link dev.changesync.engine.service.LeaseService}: leases with their state, lease events,
 *       workers, manual release, recovery pass.
 *   <li>{@link dev.changesync.engine.service.WebhookIntake}: signed GitHub webhooks → refresh hints
 *       and dirty marks.
 * </ul>
 *
 * <p>They return plain records (never JDBI types) whose JSON shape is fixed by {@link
 * dev.changesync.engine.service.ApiJson}, and fail with a {@link
 * dev.changesync.engine.service.ServiceException} subtype that says which HTTP status and CLI exit
 * code to answer with: bad input 400 (exit 2), unauthorized 401, not configured 403, not found 404,
 * payload too large 413, unsupported media type 415, database unavailable 503, overloaded 503
 * (with a retry-after). Text from the
 * outside goes through {@link dev.changesync.engine.service.Inputs} first, so an invalid name or
 * number is refused before it reaches SQL.
 *
 * <p><b>Time.</b> "Now" comes from {@link dev.changesync.engine.db.DbTime}: the database clock in
 * production, so that a status says a lane is in progress exactly when the lease store would refuse
 * a claim on it; an injected clock in tests.
 */
package dev.changesync.engine.service;
