package dev.changesync.cli;

import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.RepositoryStatus;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code changesync track OWNER/REPO [--wait]}: the newcomer's verb — {@code backfill --mode
 * open_only} at the default priority ({@value #DEFAULT_PRIORITY}). {@code changesync track
 * --installation ID} tracks every repository a GitHub App installation can see.
 */
@Command(
    name = "track",
    description = {
      "Track a repository: keep a snapshot of every open pull request (backfill open_only at"
          + " priority " + TrackCommand.DEFAULT_PRIORITY + "). Marks it dirty, so its open pull"
          + " requests are scanned. Admin.",
      "With --wait, shows progress until every open pull request is current after a scan that"
          + " finished after this request. Ctrl-C stops waiting; the repository stays tracked.",
      "With --installation ID instead of OWNER/REPO, tracks every repository that GitHub App"
          + " installation can see, and keeps that set current (repositories added to or removed"
          + " from the installation). Needs GitHub App credentials."
    })
final class TrackCommand extends CliCommand {

  /** The backfill priority of a tracked repository (the column's default). */
  static final int DEFAULT_PRIORITY = 0;

  @Parameters(
      paramLabel = "OWNER/REPO",
      arity = "0..1",
      converter = Converters.Repo.class,
      description = "The repository, e.g. octocat/Hello-World.")
  RepoName repo;

  @Option(
      names = "--installation",
      paramLabel = "ID",
      description = "Track every repository of this GitHub App installation instead.")
  Long installation;

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
    if ((repo == null) == (installation == null)) {
      throw new ParameterException(
          spec.commandLine(), "give either OWNER/REPO or --installation ID");
    }
    if (installation != null) {
      if (installation <= 0) {
        throw new ParameterException(
            spec.commandLine(), "--installation must be a positive id, was " + installation);
      }
      if (await) {
        throw new ParameterException(
            spec.commandLine(), "--wait follows one repository; it does not go with --installation");
      }
      try (Backend backend = backend()) {
        return print(
            backend.trackInstallation(installation, BackfillMode.OPEN_ONLY, DEFAULT_PRIORITY),
            Formats::installationTracked);
      }
    }
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
