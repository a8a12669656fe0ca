package dev.changesync.engine.service;

/**
 * GitHub could not answer a question the request depends on (unreachable, 5xx after retries, rate
 * limited, credentials refused) — e.g. whether a repository exists before it is tracked. HTTP 502.
 */
public final class GitHubUnavailableException extends ServiceException {

  /** The HTTP status the API answers with. */
  public static final int HTTP_STATUS = 502;

  private static final long serialVersionUID = 1L;

  public GitHubUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public int httpStatus() {
    return HTTP_STATUS;
  }
}
