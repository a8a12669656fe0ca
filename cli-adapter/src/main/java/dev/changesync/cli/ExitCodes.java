package dev.changesync.cli;

/** The exit codes of SPEC §5. */
final class ExitCodes {

  /** Done. */
  static final int OK = 0;

  /** The command ran and failed: not found, server or database unreachable, refused, ... */
  static final int FAILURE = 1;

  /**
   * Nothing was attempted because the invocation is wrong: bad arguments (with usage on stderr) or
   * a bad or missing setting in the environment.
   */
  static final int USAGE = 2;

  private ExitCodes() {}
}
