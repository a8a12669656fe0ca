package dev.changesync.engine.service;

import java.time.Instant;
import java.util.Optional;

/**
 * The latest snapshot of a pull request (SPEC §3). It outlives the pull request's inventory row, so
 * a closed pull request keeps its last snapshot.
 *
 * @param state {@code open} or {@code closed}
 * @param mergeBaseSha empty when unknown
 * @param filesTruncated GitHub listed fewer files than {@code changedFiles} (it lists at most
 *     3,000)
 * @param changedFiles as GitHub reports it
 * @param updatedAt GitHub's updated-at when the snapshot was taken
 * @param indexedAt when the snapshot was written (database time)
 */
public record PullSnapshot(
    long repositoryId,
    String fullName,
    int number,
    Optional<String> title,
    String state,
    boolean merged,
    boolean draft,
    String headSha,
    Optional<String> headRef,
    String baseSha,
    String baseRef,
    Optional<String> mergeBaseSha,
    boolean filesTruncated,
    int changedFiles,
    int additions,
    int deletions,
    Optional<Instant> updatedAt,
    Instant indexedAt) {}
