package dev.changesync.engine.service;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The server cannot take the request now, though it could soon (webhooks: the bytes of bodies in
 * flight are at their budget). HTTP 503 with {@code Retry-After: }{@link #retryAfter()}.
 */
public final class OverloadedException extends ServiceException {

  /** The HTTP status the API answers with. */
  public static final int HTTP_STATUS = 503;

  private static final long serialVersionUID = 1L;

  private final Duration retryAfter;

  public OverloadedException(String message, Duration retryAfter) {
    super(message);
    this.retryAfter = requireNonNull(retryAfter, "retryAfter");
  }

  /** How long the caller should wait before trying again. */
  public Duration retryAfter() {
    return retryAfter;
  }

  @Override
  public int httpStatus() {
    return HTTP_STATUS;
  }
}
