package dev.changesync.engine.service;

import java.time.Instant;
import java.util.Optional;

/**
 * What changesync knows about one pull request ({@code pr status}): its open-PR inventory row —
 * empty when the pull request is not (or no longer) in the inventory — a summary of its snapshot,
 * and a pending webhook hint.
 */
public record PullStatus(
    long repositoryId,
    String fullName,
    int number,
    Optional<Inventory> inventory,
    Optional<SnapshotSummary> snapshot,
    Optional<PendingRefresh> pendingRefresh) {

  /**
   * The inventory row, as the last fetch or refresh saw the pull request on GitHub.
   *
   * @param freshness {@code current}, {@code stale_head_changed}, {@code stale_base_moved}, {@code
   *     failed}, or {@code missing} (no snapshot yet)
   * @param updatedAt GitHub's updated-at of the pull request
   * @param snapshotHeadSha head of the snapshot this row was last compared with
   * @param lastError why the last snapshot attempt failed
   */
  public record Inventory(
      String freshness,
      Optional<String> title,
      boolean draft,
      String headSha,
      String baseSha,
      String baseRef,
      Instant updatedAt,
      Optional<String> snapshotHeadSha,
      Optional<String> snapshotBaseSha,
      Optional<Instant> snapshotIndexedAt,
      Optional<String> lastError,
      Instant firstSeenAt,
      Instant lastSeenAt) {}

  /** The snapshot in brief; {@link PullSnapshot} and {@link PullFiles} have it in full. */
  public record SnapshotSummary(
      String state,
      boolean merged,
      boolean draft,
      String headSha,
      String baseSha,
      String baseRef,
      boolean filesTruncated,
      int changedFiles,
      int additions,
      int deletions,
      int filesStored,
      int hunksStored,
      Instant indexedAt) {}

  /** A webhook hint the refresh lane has not handled yet. */
  public record PendingRefresh(
      Instant firstSeenAt,
      Instant lastSeenAt,
      int count,
      Optional<String> lastAction,
      int attempts,
      Optional<String> lastError) {}
}
