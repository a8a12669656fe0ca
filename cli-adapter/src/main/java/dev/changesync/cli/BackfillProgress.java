package dev.changesync.cli;

import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.RepositoryStatus;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Locale;
import java.util.Optional;

/**
 * Shows {@code backfill --wait}'s progress: current / total open pull requests, the rate since
 * waiting began and the time left at that rate. On a terminal one bar redrawn in place; otherwise
 * a plain line whenever the counts (or the last error) change.
 */
final class BackfillProgress {

  static final int BAR_WIDTH = 30;

  private final PrintWriter out;
  private final boolean terminal;
  private final InstantSource clock;

  private final Instant startedAt;
  private Instant firstAt; // first observation with a scanned inventory
  private int firstCurrent;
  private String lastLine = "";
  private Optional<String> lastError = Optional.empty();
  private int drawnWidth;

  BackfillProgress(PrintWriter out, boolean terminal, InstantSource clock) {
    this.out = out;
    this.terminal = terminal;
    this.clock = clock;
    this.startedAt = clock.instant();
  }

  void update(RepositoryStatus s, boolean complete) {
    Instant now = clock.instant();
    boolean scanned = s.lastOpenPrScanAt().isPresent();
    if (scanned && firstAt == null) {
      firstAt = now;
      firstCurrent = s.openPrCurrent();
    }
    if (complete) {
      finish(
          s.fullName()
              + ": backfill complete, "
              + s.openPrCurrent()
              + "/"
              + s.openPrTotal()
              + " open PRs current (waited "
              + Times.span(Duration.between(startedAt, now))
              + ")");
      return;
    }
    if (!s.lastError().equals(lastError)) {
      lastError = s.lastError();
      lastError.ifPresent(e -> finish(s.fullName() + ": last error: " + Formats.oneLine(e)));
    }
    if (terminal) {
      draw(s, scanned, now);
      return;
    }
    // A line whenever the counts change, not on every poll.
    String core = s.fullName() + ": " + core(s, scanned);
    if (!core.equals(lastLine)) {
      lastLine = core;
      out.println(core + pace(s, now, ", "));
      out.flush();
    }
  }

  /** The counts: {@code 12/30 open PRs current (40%), 3 stale, 15 missing}. */
  private static String core(RepositoryStatus s, boolean scanned) {
    if (!scanned) {
      return "waiting for the scan of open PRs (" + s.phase().value() + ")";
    }
    StringBuilder d = new StringBuilder();
    d.append(s.openPrCurrent()).append('/').append(s.openPrTotal()).append(" open PRs current");
    d.append(String.format(Locale.ROOT, " (%d%%)", percent(s)));
    if (s.openPrStale() > 0 || s.openPrMissing() > 0) {
      d.append(", ").append(s.openPrStale()).append(" stale, ").append(s.openPrMissing());
      d.append(" missing");
    }
    if (s.pendingRefreshCount() > 0) {
      d.append(", ").append(s.pendingRefreshCount()).append(" hint(s) pending");
    }
    d.append(" (").append(s.phase().value()).append(')');
    return d.toString();
  }

  /** The rate and ETA once there is a rate: {@code , 1.5 PR/s, ETA 12s}. */
  private String pace(RepositoryStatus s, Instant now, String separator) {
    StringBuilder d = new StringBuilder();
    rate(s, now).ifPresent(r -> d.append(separator).append(formatRate(r)));
    eta(s, now).ifPresent(eta -> d.append(separator).append("ETA ").append(eta));
    return d.toString();
  }

  void stopped(RepositoryStatus s, BackfillMode mode, int priority) {
    finish(
        "Stopped waiting; the backfill of "
            + s.fullName()
            + " stays configured ("
            + mode.value()
            + ", priority "
            + priority
            + ") and goes on in the workers.");
  }

  private void draw(RepositoryStatus s, boolean scanned, Instant now) {
    StringBuilder line = new StringBuilder(s.fullName()).append(' ');
    if (scanned) {
      int total = s.openPrTotal();
      int filled = total == 0 ? BAR_WIDTH : (int) ((long) BAR_WIDTH * s.openPrCurrent() / total);
      line.append('[')
          .append("#".repeat(filled))
          .append("-".repeat(BAR_WIDTH - filled))
          .append("] ")
          .append(s.openPrCurrent())
          .append('/')
          .append(total)
          .append(String.format(Locale.ROOT, " %3d%%", percent(s)))
          .append("  ")
          .append(s.phase().value())
          .append(pace(s, now, "  "));
    } else {
      line.append(core(s, false));
    }
    String text = line.toString();
    int pad = Math.max(0, drawnWidth - text.length());
    out.print("\r" + text + " ".repeat(pad));
    out.flush();
    drawnWidth = text.length();
  }

  /** Clears the bar's line on a terminal, so that a message can follow on stderr. */
  void clear() {
    if (terminal && drawnWidth > 0) {
      out.print("\r" + " ".repeat(drawnWidth) + "\r");
      out.flush();
      drawnWidth = 0;
    }
  }

  /** Ends the bar's line (on a terminal) and prints {@code message} on a line of its own. */
  private void finish(String message) {
    if (terminal && drawnWidth > 0) {
      out.print("\r" + " ".repeat(drawnWidth) + "\r");
      drawnWidth = 0;
    }
    out.println(message);
    out.flush();
    lastLine = "";
  }

  private static int percent(RepositoryStatus s) {
    return s.openPrTotal() == 0 ? 100 : (int) (100L * s.openPrCurrent() / s.openPrTotal());
  }

  /** Pull requests made current per second since waiting began; empty before there is a rate. */
  private Optional<Double> rate(RepositoryStatus s, Instant now) {
    if (firstAt == null) {
      return Optional.empty();
    }
    double seconds = Duration.between(firstAt, now).toMillis() / 1000.0;
    int done = s.openPrCurrent() - firstCurrent;
    if (seconds < 1 || done <= 0) {
      return Optional.empty();
    }
    return Optional.of(done / seconds);
  }

  private Optional<String> eta(RepositoryStatus s, Instant now) {
    return rate(s, now)
        .map(r -> Duration.ofSeconds((long) Math.ceil((s.openPrTotal() - s.openPrCurrent()) / r)))
        .map(Times::span);
  }

  private static String formatRate(double perSecond) {
    return perSecond >= 1
        ? String.format(Locale.ROOT, "%.1f PR/s", perSecond)
        : String.format(Locale.ROOT, "%.1f PR/min", perSecond * 60);
  }
}
