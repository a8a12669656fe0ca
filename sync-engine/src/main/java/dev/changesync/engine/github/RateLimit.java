package dev.changesync.engine.github;

import java.time.Instant;

/**
 * The rate-limit budget as GitHub last reported it ({@code x-ratelimit-*} headers).
 *
 * @param limit requests per window
 * @param remaining requests left in the window
 * @param used requests used in the window
 * @param resetAt when the window ends and {@code remaining} goes back to {@code limit}
 * @param resource which budget ({@code core} for everything changesync calls)
 */
public record RateLimit(int limit, int remaining, int used, Instant resetAt, String resource) {}
