package dev.changesync.cli;

/**
 * A failure the CLI explains itself in one line — the server is not reachable, the database is
 * not ready, a needed setting is missing — with the exit code it ends in.
 */
final class CliException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int exitCode;

  CliException(String message) {
    this(message, ExitCodes.FAILURE, null);
  }

  CliException(String message, int exitCode) {
    this(message, exitCode, null);
  }

  CliException(String message, int exitCode, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
