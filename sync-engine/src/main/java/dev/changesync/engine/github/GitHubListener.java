package dev.changesync.engine.github;

import java.time.Duration;

/**
 * Observes what {@link HttpGitHub} does, e.g. to turn it into metrics. Every method has a no-op
 * default. Calls come from the calling thread, never under a lock; a listener that throws is logged
 * and otherwise ignored — it can never break a GitHub call.
 */
public interface GitHubListener {

  /** Does nothing. */
  GitHubListener NONE = new GitHubListener() {};

  /**
   * A response arrived (any status, including 304 and errors that will be retried).
   *
   * @param took from sending the request to having the whole body
   */
  default void onResponse(RequestKind kind, int status, Duration took) {}

  /** A request got no response: a timeout or a network error (it may be retried). */
  default void onNetworkError(RequestKind kind, Exception error, Duration took) {}

  /** A response carried {@code x-ratelimit-*} headers. */
  default void onRateLimit(RateLimit rateLimit) {}

  /**
   * A response to a request made with {@code credential} (its identity, never a secret) carried
   * {@code x-ratelimit-*} headers. The default calls {@link #onRateLimit(RateLimit)}.
   */
  default void onRateLimit(String credential, RateLimit rateLimit) {
    onRateLimit(rateLimit);
  }

  /** The client is about to wait for {@code duration} before calling GitHub (again). */
  default void onWait(WaitReason reason, Duration duration) {}

  /** Why the client waits. */
  enum WaitReason {
    /** The primary rate limit is used up; waiting for {@code x-ratelimit-reset}. */
    RATE_LIMIT_RESET,
    /** A secondary rate limit (403 / 429): {@code retry-after}, or backoff. */
    SECONDARY_RATE_LIMIT,
    /** Backoff after a 5xx. */
    SERVER_ERROR,
    /** Backoff after a timeout or network error. */
    NETWORK_ERROR
  }
}
