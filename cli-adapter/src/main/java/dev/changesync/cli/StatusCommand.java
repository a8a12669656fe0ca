package dev.changesync.cli;

import dev.changesync.engine.repo.RepoName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code changesync status OWNER/REPO}. */
@Command(
    name = "status",
    description = {
      "Change status of a repository: sync state, open-PR counts, and per lane the lease's state,"
          + " owner, token, heartbeat and expiry.",
      "State: held (the owner is working), stale (an owner, but no longer held: anyone may reclaim"
          + " it), free."
    })
final class StatusCommand extends CliCommand {

  @Parameters(
      paramLabel = "OWNER/REPO",
      converter = Converters.Repo.class,
      description = "The repository, e.g. octocat/Hello-World.")
  RepoName repo;

  @Override
  public Integer call() {
    try (Backend backend = backend()) {
      return print(backend.repositoryStatus(repo), s -> Formats.status(s, now()));
    }
  }
}
