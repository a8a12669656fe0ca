package dev.changesync.engine.service;

/**
 * Missing or wrong credentials: a webhook signature that does not verify (or a missing or wrong
 * admin token, which the adapter checks). HTTP 401.
 */
public final class UnauthorizedException extends ServiceException {

  /** The HTTP status the API answers with. */
  public static final int HTTP_STATUS = 401;

  private static final long serialVersionUID = 1L;

  public UnauthorizedException(String message) {
    super(message);
  }

  public UnauthorizedException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public int httpStatus() {
    return HTTP_STATUS;
  }
}
