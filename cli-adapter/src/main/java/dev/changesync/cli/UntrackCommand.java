package dev.changesync.cli;

import dev.changesync.engine.repo.RepoName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code changesync untrack OWNER/REPO}. */
@Command(
    name = "untrack",
    description =
        "Stop tracking a repository and remove everything stored about it (sync state, open-PR"
            + " inventory, snapshots, pending hints, leases) in one transaction. A lease a worker"
            + " holds is taken from it (its next write fails as lease lost); recorded as lease"
            + " events. Admin.")
final class UntrackCommand extends CliCommand {

  @Parameters(
      paramLabel = "OWNER/REPO",
      converter = Converters.Repo.class,
      description = "The repository, e.g. octocat/Hello-World.")
  RepoName repo;

  @Override
  public Integer call() {
    try (Backend backend = backend()) {
      return print(backend.untrack(repo, LeasesCommand.Release.actor()), RepoFormats::untracked);
    }
  }
}
