package dev.changesync.migrations;

/**
 * The database schema is not one this build can run against (newer, behind, failed or modified), or
 * migrating it failed. The message says what is wrong and what to do.
 */
public final class MigrationException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public MigrationException(String message) {
    super(message);
  }

  public MigrationException(String message, Throwable cause) {
    super(message, cause);
  }
}
