package dev.changesync.engine.github;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A GitHub call that did not succeed after the client's retries: the HTTP status (when there was
 * a response), and whether it means the object does not exist. The message never contains a token.
 */
public class GitHubException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  // Plain serializable fields: -1 for "no response", null for "no retry time".
  private final int status;
  private final Instant retryAt;

  public GitHubException(String message, OptionalInt status, Throwable cause) {
    this(message, status, Optional.empty(), cause);
  }

  /**
   * @param retryAt for a rate limit the client would not (or no longer) wait for: when GitHub
   *     will take requests again
   */
  public GitHubException(
      String message, OptionalInt status, Optional<Instant> retryAt, Throwable cause) {
    super(message, cause);
    this.status = status.orElse(-1);
    this.retryAt = retryAt.orElse(null);
  }

  public GitHubException(String message, int status) {
    this(message, OptionalInt.of(status), null);
  }

  /** The HTTP status of the last response, if one arrived. */
  public OptionalInt status() {
    return status < 0 ? OptionalInt.empty() : OptionalInt.of(status);
  }

  /**
   * For a rate limit the client gave up waiting for (the wait was longer than it may wait, or it
   * had retried enough): when GitHub will take requests again. Empty for every other failure.
   */
  public Optional<Instant> retryAt() {
    return Optional.ofNullable(retryAt);
  }

  /** True when the call failed because of a (primary or secondary) rate limit. */
  public boolean isRateLimited() {
    return retryAt != null;
  }

  /**
   * True when the call stopped because its thread was interrupted (while waiting for a response
   * or for a backoff). The thread's interrupt flag is set again when this is thrown.
   */
  public boolean isInterrupted() {
    return getCause() instanceof InterruptedException;
  }

  /** True for 404 (and 410): the repository or pull request does not exist or is not visible. */
  public boolean isNotFound() {
    return status == 404 || status == 410;
  }
}
