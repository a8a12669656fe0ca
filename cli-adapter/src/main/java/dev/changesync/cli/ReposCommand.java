package dev.changesync.cli;

import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.RepositoryCatalog;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code changesync repos}. */
@Command(
    name = "repos",
    description =
        "The tracked repositories in name order, a page at a time: backfill mode and priority,"
            + " phase, open-PR counts, pending hints, failures, next retry and last error.")
final class ReposCommand extends CliCommand {

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "" + RepositoryCatalog.DEFAULT_LIMIT,
      description = "At most N repositories (1-" + RepositoryCatalog.MAX_LIMIT + ", default ${DEFAULT-VALUE}).")
  int limit;

  @Option(
      names = "--after",
      paramLabel = "OWNER/REPO",
      converter = Converters.Repo.class,
      description = "Start after this repository (the next page).")
  RepoName after;

  @Override
  public Integer call() {
    if (limit < 1 || limit > RepositoryCatalog.MAX_LIMIT) {
      throw usageError("--limit must be from 1 to " + RepositoryCatalog.MAX_LIMIT + ": " + limit);
    }
    try (Backend backend = backend()) {
      return print(
          backend.repositories(limit, Optional.ofNullable(after)), RepoFormats::repositories);
    }
  }
}
