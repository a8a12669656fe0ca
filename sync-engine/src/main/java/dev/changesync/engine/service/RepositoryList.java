package dev.changesync.engine.service;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One page of the tracked repositories, in case-insensitive name order ({@code GET
 * /v1/changes/repos}).
 *
 * @param now database time at which the page was read
 * @param next the {@code after} value of the next page; empty on the last page
 */
public record RepositoryList(Instant now, List<Entry> repositories, Optional<String> next) {

  public RepositoryList {
    repositories = List.copyOf(repositories);
  }

  /**
   * One tracked repository: its configuration, counts, last error and when a backed-off lane runs
   * again.
   *
   * @param nextRetryAt the earliest {@code *_next_attempt_at} of its lanes (empty when none backs
   *     off)
   * @param fetchInProgress whether its fetch lease is HELD now; likewise for refresh and backfill
   */
  public record Entry(
      long repositoryId,
      String fullName,
      BackfillMode backfillMode,
      int backfillPriority,
      boolean dirty,
      Optional<Instant> lastOpenPrScanAt,
      Optional<Instant> lastSuccessfulFetchAt,
      int openPrTotal,
      int openPrCurrent,
      int openPrStale,
      int openPrMissing,
      long pendingRefreshCount,
      Optional<String> lastError,
      Optional<Instant> lastErrorAt,
      int fetchFailureCount,
      int refreshFailureCount,
      int backfillFailureCount,
      Optional<Instant> nextRetryAt,
      Optional<Instant> githubNotFoundAt,
      boolean converged,
      SyncPhase phase,
      Optional<Instant> lastWebhookAt,
      boolean fetchInProgress,
      boolean refreshInProgress,
      boolean backfillInProgress) {}
}
