package dev.changesync.engine.service;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * What a repository's sync is doing at the instant its status was read, first match wins:
 *
 * <ol>
 *   <li>{@code scanning} — the fetch lane's lease is held (an open-PR scan is running);
 *   <li>{@code backfilling} — the backfill or refresh lane's lease is held;
 *   <li>{@code backing_off} — a lane failed and waits for its {@code *_next_attempt_at}, or GitHub
 *       said the repository does not exist (no lane retries until it is tracked or fetched again);
 *   <li>{@code waiting_debounce} — a fetch is due (never scanned, or dirty) and waits for the
 *       webhook debounce, the minimum fetch interval or a free worker;
 *   <li>{@code backfilling} — also while snapshots are still to be built (stale or missing pull
 *       requests with backfill on, or pending webhook hints) and no lane is running yet;
 *   <li>{@code idle} — nothing to do.
 * </ol>
 *
 * With backfill mode {@code off} no lane works, so such a repository is {@code idle} unless a
 * lane still runs.
 */
public enum SyncPhase {
  WAITING_DEBOUNCE,
  SCANNING,
  BACKFILLING,
  IDLE,
  BACKING_OFF;

  /** As in the API: {@code waiting_debounce}, {@code scanning}, ... */
  @JsonValue
  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static SyncPhase parse(String value) {
    for (SyncPhase phase : values()) {
      if (phase.value().equalsIgnoreCase(value == null ? "" : value.strip())) {
        return phase;
      }
    }
    throw new IllegalArgumentException("unknown sync phase: " + value);
  }

  /** The inputs the phase and convergence are decided from, all read at one instant. */
  record Facts(
      Instant now,
      BackfillMode mode,
      boolean dirty,
      boolean scanned,
      boolean fetchHeld,
      boolean refreshHeld,
      boolean backfillHeld,
      Optional<Instant> fetchRetryAfter,
      Optional<Instant> refreshRetryAfter,
      Optional<Instant> backfillRetryAfter,
      boolean githubNotFound,
      int openPrStale,
      int openPrMissing,
      long pendingRefreshCount) {

    /** Scanned at least once, nothing stale or missing, no pending webhook hints. */
    boolean converged() {
      return scanned && openPrStale == 0 && openPrMissing == 0 && pendingRefreshCount == 0;
    }

    SyncPhase phase() {
      if (fetchHeld) {
        return SCANNING;
      }
      if (backfillHeld || refreshHeld) {
        return BACKFILLING;
      }
      if (mode == BackfillMode.OFF) {
        return IDLE;
      }
      if (githubNotFound
          || future(fetchRetryAfter)
          || future(refreshRetryAfter)
          || future(backfillRetryAfter)) {
        return BACKING_OFF;
      }
      if (!scanned || dirty) {
        return WAITING_DEBOUNCE;
      }
      if (openPrStale + openPrMissing > 0 || pendingRefreshCount > 0) {
        return BACKFILLING;
      }
      return IDLE;
    }

    private boolean future(Optional<Instant> at) {
      return at.isPresent() && at.get().isAfter(now);
    }
  }

  /** {@code at} when it is after {@code now}: the next attempt of a backed-off lane. */
  static Optional<Instant> nextAttempt(Optional<Instant> at, Instant now) {
    return at.filter(a -> a.isAfter(now));
  }
}
