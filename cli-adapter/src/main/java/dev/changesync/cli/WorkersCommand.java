package dev.changesync.cli;

import picocli.CommandLine.Command;

/** {@code changesync workers}. */
@Command(
    name = "workers",
    description =
        "The registered worker processes, most recently seen first: started, last seen, and"
            + " whether each is alive (by its liveness lock, or by when it was last seen).")
final class WorkersCommand extends CliCommand {

  @Override
  public Integer call() {
    try (Backend backend = backend()) {
      return print(backend.workers(), Formats::workers);
    }
  }
}
