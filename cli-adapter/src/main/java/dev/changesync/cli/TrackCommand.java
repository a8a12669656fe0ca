package dev.changesync.cli;

import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.RepositoryStatus;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code changesync track OWNER/REPO [--wait]}: the newcomer's verb — {@code backfill --mode
 * open_only} at the default priority ({@value #DEFAULT_PRIORITY}).
 */
@Command(
    name = "track",
    description = {
      "Track a repository: keep a snapshot of every open pull request (backfill open_only at"
          + " priority " + TrackCommand.DEFAULT_PRIORITY + "). Marks it dirty, so its open pull"
          + " requests are scanned. Admin.",
      "With --wait, shows progress until every open pull request is current after a scan that"
          + " finished after this request. Ctrl-C stops waiting; the repository stays tracked."
    })
final class TrackCommand extends CliCommand {

  /** The backfill priority of a tracked repository (the column's default). */
  static final int DEFAULT_PRIORITY = 0;

  @Parameters(
      paramLabel = "OWNER/REPO",
      converter = Converters.Repo.class,
      description = "The repository, e.g. octocat/Hello-World.")
  RepoName repo;

  @Option(names = "--wait", description = "Show progress until the open pull requests are current.")
  boolean await;

  @Option(
      names = "--poll-interval",
      paramLabel = "DURATION",
      defaultValue = "2s",
      converter = Converters.PositiveDuration.class,
      description = "How often --wait asks for progress (default ${DEFAULT-VALUE}).")
  Duration pollEvery;

  @Override
  public Integer call() throws Exception {
    try (Backend backend = backend()) {
      Answer<RepositoryStatus> tracked =
          backend.configureBackfill(repo, BackfillMode.OPEN_ONLY, DEFAULT_PRIORITY);
      if (!await) {
        return print(tracked, s -> Formats.backfillConfigured(s, now()));
      }
      if (!json()) {
        out().print(Formats.backfillConfigured(tracked.value(), now()));
        out().flush();
      }
      return untilStopped(
          Duration.ofSeconds(10),
          () ->
              BackfillCommand.follow(
                  this,
                  backend,
                  repo,
                  tracked.value(),
                  pollEvery,
                  BackfillMode.OPEN_ONLY,
                  DEFAULT_PRIORITY));
    }
  }
}
