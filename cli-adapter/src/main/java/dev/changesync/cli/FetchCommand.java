package dev.changesync.cli;

import dev.changesync.engine.repo.RepoName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code changesync fetch OWNER/REPO}. */
@Command(
    name = "fetch",
    description =
        "Request a fetch (a scan of the open pull requests) of a tracked repository: marks it"
            + " dirty, and a worker scans it after the webhook debounce. Admin.")
final class FetchCommand extends CliCommand {

  @Parameters(
      paramLabel = "OWNER/REPO",
      converter = Converters.Repo.class,
      description = "The repository, e.g. octocat/Hello-World.")
  RepoName repo;

  @Override
  public Integer call() {
    try (Backend backend = backend()) {
      return print(backend.requestFetch(repo), s -> Formats.fetchRequested(s, now()));
    }
  }
}
