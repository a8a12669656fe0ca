package dev.changesync.cli;

/** {@code java -jar changesync.jar ...}: runs the CLI and exits with its exit code. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    int exitCode = ChangesyncCli.run(CliContext.system(), args);
    System.exit(exitCode);
  }
}
