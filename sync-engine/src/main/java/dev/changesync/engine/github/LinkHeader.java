package dev.changesync.engine.github;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads RFC 8288 {@code Link} headers as GitHub sends them: {@code <https://...&page=2>;
 * rel="next", <https://...&page=5>; rel="last"}.
 */
final class LinkHeader {

  private static final Pattern LINK = Pattern.compile("<([^>]*)>((?:\\s*;\\s*[^;,<]*)*)");
  private static final Pattern REL =
      Pattern.compile("(?i)(?:^|;)\\s*rel\\s*=\\s*(?:\"([^\"]*)\"|([^\\s;,\"]+))");

  private LinkHeader() {}

  /** The target of the link whose {@code rel} includes {@code relation}, if any. */
  static Optional<String> find(String header, String relation) {
    if (header == null || header.isBlank()) {
      return Optional.empty();
    }
    Matcher link = LINK.matcher(header);
    while (link.find()) {
      Matcher rel = REL.matcher(link.group(2));
      while (rel.find()) {
        String values = rel.group(1) != null ? rel.group(1) : rel.group(2);
        for (String value : values.trim().split("\\s+")) {
          if (value.toLowerCase(Locale.ROOT).equals(relation)) {
            return Optional.of(link.group(1).trim());
          }
        }
      }
    }
    return Optional.empty();
  }
}
