package dev.changesync.engine.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as operators write them: {@code 500ms}, {@code 15s}, {@code 15m}, {@code 6h}, {@code
 * 1d}, combinations such as {@code 1h30m}, a bare {@code 0}, and ISO-8601 ({@code PT15M}, {@code
 * P1D}). Units are case-insensitive; negative durations are rejected.
 */
public final class Durations {

  /** What a valid value looks like, for error messages. */
  public static final String HINT = "use 500ms, 15s, 15m, 6h or ISO-8601 like PT15M";

  private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:ms|s|m|h|d))+");
  private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  private Durations() {}

  /**
   * Parses {@code text}. Throws {@link IllegalArgumentException} whose message quotes the value and
   * says what is accepted.
   */
  public static Duration parse(String text) {
    requireNonNull(text, "text");
    String value = text.strip();
    String lower = value.toLowerCase(Locale.ROOT);
    try {
      Duration parsed;
      if (lower.equals("0")) {
        parsed = Duration.ZERO;
      } else if (lower.startsWith("p") || lower.startsWith("-p") || lower.startsWith("+p")) {
        parsed = Duration.parse(value.toUpperCase(Locale.ROOT));
      } else if (WHOLE.matcher(lower).matches()) {
        parsed = Duration.ZERO;
        Matcher part = PART.matcher(lower);
        while (part.find()) {
          long amount = Long.parseLong(part.group(1));
          parsed = parsed.plus(unit(amount, part.group(2)));
        }
      } else {
        throw notADuration(text, null);
      }
      if (parsed.isNegative()) {
        throw new IllegalArgumentException("'" + text + "' is negative; durations must not be");
      }
      return parsed;
    } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
      throw notADuration(text, e);
    }
  }

  /**
   * Formats compactly in the same syntax {@link #parse} accepts ({@code 15m}, {@code 1h30m}, {@code
   * 500ms}).
   */
  public static String format(Duration duration) {
    requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      return duration.toString();
    }
    if (duration.isZero()) {
      return "0";
    }
    if (duration.getNano() % 1_000_000 != 0) {
      return duration.toString();
    }
    StringBuilder out = new StringBuilder();
    long days = duration.toDaysPart();
    append(out, days, "d");
    append(out, duration.toHoursPart(), "h");
    append(out, duration.toMinutesPart(), "m");
    append(out, duration.toSecondsPart(), "s");
    append(out, duration.toMillisPart(), "ms");
    return out.toString();
  }

  private static void append(StringBuilder out, long amount, String unit) {
    if (amount != 0) {
      out.append(amount).append(unit);
    }
  }

  private static Duration unit(long amount, String unit) {
    return switch (unit) {
      case "ms" -> Duration.ofMillis(amount);
      case "s" -> Duration.ofSeconds(amount);
      case "m" -> Duration.ofMinutes(amount);
      case "h" -> Duration.ofHours(amount);
      case "d" -> Duration.ofDays(amount);
      default -> throw new IllegalStateException("unit " + unit);
    };
  }

  private static IllegalArgumentException notADuration(String text, Exception cause) {
    return new IllegalArgumentException(
        "'" + printable(text) + "' is not a duration (" + HINT + ")", cause);
  }

  /** {@code s} fit for an error message: at most 80 characters, control characters as {@code ?}. */
  public static String printable(String s) {
    String cut = s.length() > 80 ? s.substring(0, 80) + "…" : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
