package dev.changesync.engine.github;

import java.util.OptionalInt;

/**
 * A GitHub call that did not succeed after the client's retries: the HTTP status (when there was
 * a response), and whether it means the object does not exist. The message never contains a token.
 */
public class GitHubException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final OptionalInt status;

  public GitHubException(String message, OptionalInt status, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  public GitHubException(String message, int status) {
    this(message, OptionalInt.of(status), null);
  }

  /** The HTTP status of the last response, if one arrived. */
  public OptionalInt status() {
    return status;
  }

  /** True for 404 (and 410): the repository or pull request does not exist or is not visible. */
  public boolean isNotFound() {
    return status.isPresent() && (status.getAsInt() == 404 || status.getAsInt() == 410);
  }
}
