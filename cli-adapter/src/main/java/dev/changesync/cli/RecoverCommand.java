package dev.changesync.cli;

import picocli.CommandLine.Command;

/** {@code changesync recover}. */
@Command(
    name = "recover",
    description =
        "Run the recovery pass now: frees every stale lease and every lease whose owner's process"
            + " is gone (liveness). Admin.")
final class RecoverCommand extends CliCommand {

  @Override
  public Integer call() {
    try (Backend backend = backend()) {
      return print(backend.recover(), Formats::recovered);
    }
  }
}
