package dev.changesync.engine.service;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Whether the backfill lane works on a repository (SPEC §3). */
public enum BackfillMode {
  /** Paused: no lane works on the repository (no fetch, refresh or backfill). */
  OFF,
  /**
   * Scan the open pull requests, apply webhook hints, and rebuild the snapshots of open pull
   * requests that are not current.
   */
  OPEN_ONLY;

  /** As in the database and the API: {@code off}, {@code open_only}. */
  @JsonValue
  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code off} or {@code open_only} (any case); else {@link BadInputException}. */
  @JsonCreator
  public static BackfillMode parse(String value) {
    if (value != null) {
      for (BackfillMode mode : values()) {
        if (mode.value().equalsIgnoreCase(value.strip())) {
          return mode;
        }
      }
    }
    throw new BadInputException(
        "invalid backfill mode '" + Inputs.printable(value) + "': off or open_only");
  }
}
