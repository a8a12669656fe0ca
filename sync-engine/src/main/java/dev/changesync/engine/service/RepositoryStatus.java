package dev.changesync.engine.service;

import java.time.Instant;
import java.util.Optional;

/**
 * The change status of one repository (SPEC §4). Component names are the API's field names in
 * camelCase: with {@link ApiJson} they serialize to exactly the SPEC's snake_case names. Instants
 * are database time; an empty {@code Optional} is {@code null} in JSON.
 *
 * <p>Per lane, {@code *InProgress} is true only while that lane's lease is HELD at the instant the
 * status was read; the lease owner, token, heartbeat and expiry are shown for a held or stale lease
 * and are empty when the lease is free.
 *
 * @param backfillMode {@code off} or {@code open_only}
 * @param openPrMissing open pull requests without a snapshot yet (total − current − stale)
 * @param openPrCursorNumber the backfill cursor: the last pull request rebuilt in the walk
 * @param pendingRefreshCount webhook hints waiting for the refresh lane
 * @param fetchFailureCount failed passes of the fetch lane in a row (0 after a success); likewise
 *     for refresh and backfill
 * @param fetchNextAttemptAt while the fetch lane backs off after failures: when it may run again
 *     (empty when it may run now); likewise for refresh and backfill
 * @param githubNotFoundAt when GitHub last answered 404 / 410 for the repository: no lane retries
 *     it until it is tracked again or an admin fetch is requested
 * @param converged scanned at least once, no open pull request stale or missing, no pending
 *     webhook hints
 * @param phase what the sync is doing now (see {@link SyncPhase})
 * @param githubRateLimitRemaining GitHub requests left in the current window, as the most recently
 *     seen running worker last reported it (empty before any worker has called GitHub)
 * @param githubRateLimitResetAt when that window ends and the budget is full again
 */
public record RepositoryStatus(
    long repositoryId,
    String fullName,
    boolean dirty,
    Optional<Instant> dirtySince,
    Optional<Instant> lastWebhookAt,
    Optional<Instant> lastRequestedFetchAt,
    Optional<Instant> lastFetchStartedAt,
    Optional<Instant> lastFetchFinishedAt,
    Optional<Instant> lastSuccessfulFetchAt,
    Optional<Instant> lastBackfillStartedAt,
    Optional<Instant> lastBackfillFinishedAt,
    Optional<Instant> lastOpenPrScanAt,
    BackfillMode backfillMode,
    int backfillPriority,
    boolean fetchInProgress,
    boolean backfillInProgress,
    boolean refreshInProgress,
    Optional<String> fetchLeaseOwnerId,
    Optional<Long> fetchLeaseToken,
    Optional<Instant> fetchLeaseHeartbeatAt,
    Optional<Instant> fetchLeaseExpiresAt,
    Optional<String> backfillLeaseOwnerId,
    Optional<Long> backfillLeaseToken,
    Optional<Instant> backfillLeaseHeartbeatAt,
    Optional<Instant> backfillLeaseExpiresAt,
    Optional<String> refreshLeaseOwnerId,
    Optional<Long> refreshLeaseToken,
    Optional<Instant> refreshLeaseHeartbeatAt,
    Optional<Instant> refreshLeaseExpiresAt,
    int openPrTotal,
    int openPrCurrent,
    int openPrStale,
    int openPrMissing,
    Optional<Integer> openPrCursorNumber,
    Optional<Instant> openPrCursorUpdatedAt,
    long pendingRefreshCount,
    Optional<String> lastError,
    Optional<Instant> lastErrorAt,
    int fetchFailureCount,
    Optional<Instant> fetchNextAttemptAt,
    int refreshFailureCount,
    Optional<Instant> refreshNextAttemptAt,
    int backfillFailureCount,
    Optional<Instant> backfillNextAttemptAt,
    Optional<Instant> githubNotFoundAt,
    boolean converged,
    SyncPhase phase,
    Optional<Integer> githubRateLimitRemaining,
    Optional<Instant> githubRateLimitResetAt) {}
