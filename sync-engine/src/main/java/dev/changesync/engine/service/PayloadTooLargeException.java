package dev.changesync.engine.service;

/** The request body is larger than accepted (webhooks: 25 MB). HTTP 413. */
public final class PayloadTooLargeException extends ServiceException {

  /** The HTTP status the API answers with. */
  public static final int HTTP_STATUS = 413;

  private static final long serialVersionUID = 1L;

  public PayloadTooLargeException(String message) {
    super(message);
  }

  public PayloadTooLargeException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public int httpStatus() {
    return HTTP_STATUS;
  }
}
