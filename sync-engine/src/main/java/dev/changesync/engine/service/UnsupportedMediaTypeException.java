package dev.changesync.engine.service;

/** The request body is not in a format the call accepts (webhooks: JSON only). HTTP 415. */
public final class UnsupportedMediaTypeException extends ServiceException {

  /** The HTTP status the API answers with. */
  public static final int HTTP_STATUS = 415;

  private static final long serialVersionUID = 1L;

  public UnsupportedMediaTypeException(String message) {
    super(message);
  }

  public UnsupportedMediaTypeException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public int httpStatus() {
    return HTTP_STATUS;
  }
}
