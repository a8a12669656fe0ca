package dev.changesync.engine.service;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A repository's open pull requests as its inventory has them, with their freshness ({@code GET
 * /v1/changes/repos/{owner}/{repo}/pulls}): most recently updated on GitHub first.
 *
 * @param now database time at which the list was read
 * @param openPrTotal how many open pull requests the inventory holds (the list may stop short)
 */
public record OpenPullList(
    long repositoryId, String fullName, Instant now, int openPrTotal, List<Entry> pulls) {

  public OpenPullList {
    pulls = List.copyOf(pulls);
  }

  /**
   * One open pull request.
   *
   * @param freshness {@code current}, {@code stale_head_changed}, {@code stale_base_moved}, {@code
   *     failed}, or {@code missing} (no snapshot yet)
   * @param updatedAt GitHub's updated-at of the pull request
   * @param snapshotIndexedAt when its snapshot was last written
   * @param lastError why the last snapshot attempt failed
   */
  public record Entry(
      int number,
      Optional<String> title,
      boolean draft,
      String freshness,
      Instant updatedAt,
      String headSha,
      Optional<String> snapshotHeadSha,
      Optional<Instant> snapshotIndexedAt,
      Optional<String> lastError) {}
}
