package dev.changesync.cli;

import dev.changesync.engine.repo.RepoName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code changesync pr status|files OWNER/REPO NUMBER}. */
@Command(
    name = "pr",
    description = "What changesync knows about one pull request.",
    subcommands = {PrCommand.Status.class, PrCommand.Files.class})
final class PrCommand extends CliCommand {

  @Override
  public Integer call() {
    throw usageError("Missing required command: status or files");
  }

  /** The repository and number both pull request commands take. */
  abstract static class PullCommand extends CliCommand {
    @Parameters(
        index = "0",
        paramLabel = "OWNER/REPO",
        converter = Converters.Repo.class,
        description = "The repository, e.g. octocat/Hello-World.")
    RepoName repo;

    @Parameters(
        index = "1",
        paramLabel = "NUMBER",
        converter = Converters.PullNumber.class,
        description = "The pull request number.")
    int number;
  }

  @Command(
      name = "status",
      description =
          "The pull request's inventory row (freshness against its snapshot), its snapshot in"
              + " brief and any webhook hint waiting for the refresh lane.")
  static final class Status extends PullCommand {
    @Override
    public Integer call() {
      try (Backend backend = backend()) {
        return print(backend.pullStatus(repo, number), p -> Formats.pullStatus(p, now()));
      }
    }
  }

  @Command(
      name = "files",
      description = "The files of the pull request's snapshot, in GitHub's order, with their hunks.")
  static final class Files extends PullCommand {
    @Option(names = "--hunks", description = "List each file's hunk headers as well.")
    boolean hunks;

    @Override
    public Integer call() {
      try (Backend backend = backend()) {
        return print(backend.pullFiles(repo, number), f -> Formats.pullFiles(f, hunks));
      }
    }
  }
}
