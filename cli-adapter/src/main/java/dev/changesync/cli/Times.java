package dev.changesync.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/**
 * How the CLI shows time to a person: RFC 3339 UTC instants to the second, and ages and waits
 * relative to a given "now" — {@code 12s ago}, {@code in 14m} — in the largest whole unit.
 */
final class Times {

  /** What an absent value looks like in human output. */
  static final String NONE = "-";

  private Times() {}

  /** {@code 2026-01-01T00:00:12Z}: UTC, whole seconds (truncated). */
  static String absolute(Instant at) {
    return DateTimeFormatter.ISO_INSTANT.format(at.truncatedTo(ChronoUnit.SECONDS));
  }

  /** {@code 12s ago}, {@code in 14m}, or {@code now} within a second of {@code now}. */
  static String relative(Instant at, Instant now) {
    Duration d = Duration.between(now, at);
    if (d.abs().compareTo(Duration.ofSeconds(1)) < 0) {
      return "now";
    }
    return d.isNegative() ? span(d.negated()) + " ago" : "in " + span(d);
  }

  /** {@code 2026-01-01T00:00:12Z (12s ago)}, or {@code -}. */
  static String stamp(Optional<Instant> at, Instant now) {
    return at.map(a -> stamp(a, now)).orElse(NONE);
  }

  /** {@code 2026-01-01T00:00:12Z (12s ago)}. */
  static String stamp(Instant at, Instant now) {
    return absolute(at) + " (" + relative(at, now) + ")";
  }

  /** {@code 12s ago} / {@code in 14m}, or {@code -}. */
  static String relative(Optional<Instant> at, Instant now) {
    return at.map(a -> relative(a, now)).orElse(NONE);
  }

  /** A non-negative length in its largest whole unit: {@code 950ms}, {@code 12s}, {@code 14m}. */
  static String span(Duration d) {
    long millis = d.toMillis();
    if (millis < 1_000) {
      return millis + "ms";
    }
    long seconds = d.toSeconds();
    if (seconds < 60) {
      return seconds + "s";
    }
    if (seconds < 3_600) {
      return seconds / 60 + "m";
    }
    if (seconds < 48 * 3_600) {
      return seconds / 3_600 + "h";
    }
    return seconds / 86_400 + "d";
  }
}
