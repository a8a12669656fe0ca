package dev.changesync.engine.sync;

/**
 * Ends a pass as failed. The message is short and user-facing (it becomes the repository's {@code
 * last_error}, see {@link Failure}); the cause keeps the details for the log.
 */
final class PassFailedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  PassFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
