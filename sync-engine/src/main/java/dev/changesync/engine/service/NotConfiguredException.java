package dev.changesync.engine.service;

/**
 * The feature is switched off because its secret is not configured: no webhook secret (webhook
 * intake), no admin token (admin routes). HTTP 403.
 */
public final class NotConfiguredException extends ServiceException {

  /** The HTTP status the API answers with. */
  public static final int HTTP_STATUS = 403;

  private static final long serialVersionUID = 1L;

  public NotConfiguredException(String message) {
    super(message);
  }

  public NotConfiguredException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public int httpStatus() {
    return HTTP_STATUS;
  }
}
