package dev.changesync.engine.service;

/**
 * The request is malformed: an invalid owner or repository name, PR number, limit, lane or body.
 * HTTP 400; CLI exit code 2 (usage error).
 */
public final class BadInputException extends ServiceException {

  /** The HTTP status the API answers with. */
  public static final int HTTP_STATUS = 400;

  private static final long serialVersionUID = 1L;

  public BadInputException(String message) {
    super(message);
  }

  public BadInputException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public int httpStatus() {
    return HTTP_STATUS;
  }

  /** 2: a usage error. */
  @Override
  public int exitCode() {
    return 2;
  }
}
