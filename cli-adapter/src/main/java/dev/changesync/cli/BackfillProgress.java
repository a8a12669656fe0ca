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

  private Instant firstAt; // first observation with a scanned inventory
  private int firstCurrent;
  private String lastLine = "";
  private Optional<String> lastError = Optional.empty();
  private int drawnWidth;

  BackfillProgress(PrintWriter out, boolean terminal, InstantSource clock) {
    this.out = out;
    this.terminal = terminal;
    this.clock = clock;
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
              + " open PRs current"
              + (firstAt == null ? "" : " (waited " + Times.span(Duration.between(firstAt, now)) + ")"));
      return;
    }
    if (!s.lastError().equals(lastError)) {
      lastError = s.lastError();
      lastError.ifPresent(e -> finish(s.fullName() + ": last error: " + Formats.oneLine(e)));
    }
    String counts =
        scanned
            ? s.openPrCurrent() + "/" + s.openPrTotal() + " open PRs current"
            : "waiting for the scan of open PRs";
    if (terminal) {
      draw(s, counts, scanned, now);
    } else {
      String line = s.fullName() + ": " + counts + details(s, scanned, now);
      // A line per change of the counts, not per poll.
      String key = s.fullName() + ": " + counts + stateOf(s);
      if (!key.equals(lastLine)) {
        lastLine = key;
        out.println(line);
        out.flush();
      }
    }
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

  private String details(RepositoryStatus s, boolean scanned, Instant now) {
    if (!scanned) {
      return s.fetchInProgress() ? " (fetch running)" : "";
    }
    StringBuilder d = new StringBuilder();
    int total = s.openPrTotal();
    d.append(String.format(Locale.ROOT, " (%d%%)", percent(s)));
    if (s.openPrStale() > 0 || s.openPrMissing() > 0) {
      d.append(", ").append(s.openPrStale()).append(" stale, ").append(s.openPrMissing());
      d.append(" missing");
    }
    rate(s, now).ifPresent(r -> d.append(", ").append(formatRate(r)));
    eta(s, now, total).ifPresent(eta -> d.append(", ETA ").append(eta));
    return d.toString();
  }

  private static String stateOf(RepositoryStatus s) {
    return "|" + s.openPrStale() + "|" + s.openPrMissing() + "|" + s.fetchInProgress();
  }

  private void draw(RepositoryStatus s, String counts, boolean scanned, Instant now) {
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
          .append(String.format(Locale.ROOT, " %3d%%", percent(s)));
      rate(s, now).ifPresent(r -> line.append("  ").append(formatRate(r)));
      eta(s, now, total).ifPresent(eta -> line.append("  ETA ").append(eta));
    } else {
      line.append(counts).append(s.fetchInProgress() ? " (fetch running)" : "");
    }
    String text = line.toString();
    int pad = Math.max(0, drawnWidth - text.length());
    out.print("\r" + text + " ".repeat(pad));
    out.flush();
    drawnWidth = text.length();
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

  private Optional<String> eta(RepositoryStatus s, Instant now, int total) {
    return rate(s, now)
        .map(r -> Duration.ofSeconds((long) Math.ceil((total - s.openPrCurrent()) / r)))
        .map(Times::span);
  }

  private static String formatRate(double perSecond) {
    return perSecond >= 1
        ? String.format(Locale.ROOT, "%.1f PR/s", perSecond)
        : String.format(Locale.ROOT, "%.1f PR/min", perSecond * 60);
  }
}
