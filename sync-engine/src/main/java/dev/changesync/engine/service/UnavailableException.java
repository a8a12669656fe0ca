package dev.changesync.engine.service;

/**
 * The database could not be reached (connection refused or lost, no connection free in the pool
 * within its timeout, server shutting down). HTTP 503.
 */
public final class UnavailableException extends ServiceException {

  /** The HTTP status the API answers with. */
  public static final int HTTP_STATUS = 503;

  private static final long serialVersionUID = 1L;

  public UnavailableException(String message) {
    super(message);
  }

  public UnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public int httpStatus() {
    return HTTP_STATUS;
  }
}
