package dev.changesync.cli;

import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.RepositoryStatus;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code changesync backfill OWNER/REPO --mode open_only --priority N [--wait]}. */
@Command(
    name = "backfill",
    description = {
      "Track a repository and configure its backfill: the workers rebuild the snapshot of every"
          + " open pull request that is not current, highest priority first. Marks it dirty, so"
          + " its open pull requests are scanned again. Admin.",
      "With --wait, follows the backfill and its phase (waiting_debounce, scanning, backfilling,"
          + " backing_off, idle) until the repository has converged after a scan that finished"
          + " after this request: every open pull request current, no webhook hint pending."
          + " --timeout bounds the wait (exit 1). Ctrl-C stops waiting; the configuration stays."
    })
final class BackfillCommand extends CliCommand {

  /** The exit code of a wait cut short by Ctrl-C, as the shell reports a SIGINT. */
  static final int STOPPED = 130;

  @Parameters(
      paramLabel = "OWNER/REPO",
      converter = Converters.Repo.class,
      description = "The repository, e.g. octocat/Hello-World.")
  RepoName repo;

  @Option(
      names = "--mode",
      paramLabel = "MODE",
      defaultValue = "open_only",
      converter = Converters.Mode.class,
      completionCandidates = Converters.Modes.class,
      description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
  BackfillMode mode;

  @Option(
      names = "--priority",
      paramLabel = "N",
      required = true,
      description = "Backfill priority; higher goes first.")
  int priority;

  @Option(names = "--wait", description = "Show progress until the backfill completes.")
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
    if (await && mode == BackfillMode.OFF) {
      throw usageError("--wait needs a backfill to wait for: --mode open_only");
    }
    try (Backend backend = backend()) {
      Answer<RepositoryStatus> configured = backend.configureBackfill(repo, mode, priority);
      if (!await) {
        return print(configured, s -> Formats.backfillConfigured(s, now()));
      }
      if (!json()) {
        out().print(Formats.backfillConfigured(configured.value(), now()));
        out().flush();
      }
      return untilStopped(
          Duration.ofSeconds(10),
          () -> follow(this, backend, repo, configured.value(), pollEvery, mode, priority));
    }
  }

  /**
   * {@code --wait} of {@code backfill} and {@code track}: shows progress (a bar on a terminal,
   * plain lines otherwise) until {@link #isComplete}, or until Ctrl-C ({@link #STOPPED}).
   */
  static int follow(
      CliCommand command,
      Backend backend,
      RepoName repo,
      RepositoryStatus configured,
      Duration pollEvery,
      BackfillMode mode,
      int priority)
      throws InterruptedException, ExecutionException {
    CliContext context = command.context();
    // Progress goes to stderr with --json, so that stdout is the JSON alone.
    PrintWriter progressOut = command.json() ? context.err() : command.out();
    BackfillProgress progress =
        new BackfillProgress(progressOut, context.interactive(), context.clock());
    Optional<Instant> requestedAt = configured.lastRequestedFetchAt();
    Optional<Duration> timeout = command.cli().timeoutFlag();
    long startedNanos = System.nanoTime();
    while (true) {
      Answer<RepositoryStatus> status = backend.repositoryStatus(repo);
      boolean complete = isComplete(status.value(), requestedAt);
      progress.update(status.value(), complete);
      if (!complete
          && timeout.isPresent()
          && System.nanoTime() - startedNanos >= timeout.get().toNanos()) {
        progress.clear();
        RepositoryStatus s = status.value();
        throw new CliException(
            "gave up waiting after "
                + Times.span(timeout.get())
                + " (--timeout): "
                + s.fullName()
                + " is "
                + s.phase().value()
                + ", "
                + s.openPrCurrent()
                + "/"
                + s.openPrTotal()
                + " open PRs current; the backfill goes on in the workers");
      }
      if (complete) {
        if (command.json()) {
          command.out().println(status.json());
          command.out().flush();
        }
        return ExitCodes.OK;
      }
      long waitNanos = pollEvery.toNanos();
      if (timeout.isPresent()) {
        long left = timeout.get().toNanos() - (System.nanoTime() - startedNanos);
        waitNanos = Math.max(1, Math.min(waitNanos, left));
      }
      try {
        context.stop().get(waitNanos, TimeUnit.NANOSECONDS);
        progress.stopped(status.value(), mode, priority);
        return STOPPED;
      } catch (TimeoutException e) {
        // poll again
      }
    }
  }

  /**
   * Complete: an open-PR scan finished at or after the request (so the inventory is no older
   * than it), and the repository has converged — every open pull request in it current, no
   * webhook hint pending.
   */
  static boolean isComplete(RepositoryStatus s, Optional<Instant> requestedAt) {
    boolean scanned =
        s.lastOpenPrScanAt()
            .filter(scan -> requestedAt.map(r -> !scan.isBefore(r)).orElse(true))
            .isPresent();
    return scanned
        && s.converged()
        && s.openPrCurrent() == s.openPrTotal()
        && s.openPrStale() == 0
        && s.openPrMissing() == 0;
  }
}
