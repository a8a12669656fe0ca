package dev.changesync.engine.service;

/** No such repository (not tracked), pull request, or owned lease. HTTP 404. */
public final class NotFoundException extends ServiceException {

  /** The HTTP status the API answers with. */
  public static final int HTTP_STATUS = 404;

  private static final long serialVersionUID = 1L;

  public NotFoundException(String message) {
    super(message);
  }

  public NotFoundException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public int httpStatus() {
    return HTTP_STATUS;
  }
}
