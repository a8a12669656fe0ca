package dev.changesync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.engine.service.SyncPhase;
import dev.changesync.lease.testing.MutableClock;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** How {@code backfill --wait} shows progress, on a terminal and off one, on a fixed clock. */
class BackfillProgressTest {

  private final MutableClock clock = new MutableClock();
  private final StringWriter text = new StringWriter();
  private final PrintWriter out = new PrintWriter(text, true);

  @Test
  void aTerminalGetsOneBarRedrawnInPlaceWithRateAndEta() {
    BackfillProgress progress = new BackfillProgress(out, true, clock);

    progress.update(status(0, 0, false), false);
    progress.update(status(40, 10, true), false);
    clock.advance(Duration.ofSeconds(10));
    progress.update(status(40, 20, true), false);
    clock.advance(Duration.ofSeconds(20));
    progress.update(status(40, 40, true), true);

    String[] frames = text.toString().split("\r", -1);
    assertThat(frames[1]).isEqualTo("acme/widgets waiting for the scan of open PRs (waiting_debounce)");
    assertThat(frames[2])
        .isEqualTo("acme/widgets [#######-----------------------] 10/40  25%  backfilling");
    assertThat(frames[3])
        .isEqualTo(
            "acme/widgets [###############---------------] 20/40  50%  backfilling  1.0 PR/s"
                + "  ETA 20s");
    assertThat(frames[frames.length - 1])
        .isEqualTo("acme/widgets: backfill complete, 40/40 open PRs current (waited 30s)\n");
  }

  @Test
  void withoutATerminalALinePerChange() {
    BackfillProgress progress = new BackfillProgress(out, false, clock);

    progress.update(status(0, 0, false), false);
    progress.update(status(0, 0, false), false);
    progress.update(status(30, 0, true), false);
    clock.advance(Duration.ofSeconds(2));
    progress.update(status(30, 0, true), false);
    clock.advance(Duration.ofSeconds(58));
    progress.update(status(30, 15, true), false);
    progress.stopped(status(30, 15, true), BackfillMode.OPEN_ONLY, 7);

    assertThat(text.toString())
        .isEqualTo(
            """
            acme/widgets: waiting for the scan of open PRs (waiting_debounce)
            acme/widgets: 0/30 open PRs current (0%), 0 stale, 30 missing (backfilling)
            acme/widgets: 15/30 open PRs current (50%), 0 stale, 15 missing (backfilling), 15.0 PR/min, ETA 1m
            Stopped waiting; the backfill of acme/widgets stays configured (open_only, priority 7) and goes on in the workers.
            """);
  }

  private static RepositoryStatus status(int total, int current, boolean scanned) {
    Instant at = Instant.parse("2026-01-01T00:00:00Z");
    Optional<Instant> scan = scanned ? Optional.of(at) : Optional.empty();
    return new RepositoryStatus(
        1, "acme/widgets", false, Optional.empty(), Optional.empty(), Optional.of(at),
        Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
        scan, BackfillMode.OPEN_ONLY, 7, false, false, false,
        Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
        Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
        Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
        total, current, 0, total - current, Optional.empty(), Optional.empty(), 0,
        Optional.empty(), Optional.empty(), 0, Optional.empty(), 0, Optional.empty(), 0,
        Optional.empty(), Optional.empty(), scanned && current == total,
        !scanned
            ? SyncPhase.WAITING_DEBOUNCE
            : current < total ? SyncPhase.BACKFILLING : SyncPhase.IDLE,
        Optional.empty(), Optional.empty());
  }
}
