package dev.changesync.engine.service;

/**
 * Why a service call could not be answered, in terms an adapter maps in one place: each subtype
 * carries the HTTP status the API answers with and the CLI's exit code (2 for a usage error, 1 for
 * any other failure). Messages are safe to show to the caller: they never contain secrets.
 */
public abstract sealed class ServiceException extends RuntimeException
    permits BadInputException,
        UnauthorizedException,
        NotConfiguredException,
        NotFoundException,
        PayloadTooLargeException,
        UnsupportedMediaTypeException,
        UnavailableException,
        GitHubUnavailableException,
        OverloadedException {

  private static final long serialVersionUID = 1L;

  ServiceException(String message) {
    super(message);
  }

  ServiceException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The HTTP status the API answers with. */
  public abstract int httpStatus();

  /** The CLI's exit code: 2 for bad input (a usage error), 1 otherwise. */
  public int exitCode() {
    return 1;
  }
}
