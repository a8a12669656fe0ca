package dev.changesync.engine.github;

import java.time.Instant;
import java.util.Optional;

/**
 * One pull request in full. {@code mergeCommitSha} is optional because GitHub has retired it in
 * some contexts; {@code changedFiles} is GitHub's count, which may exceed the files it will list.
 */
public record GhPull(
    long id,
    int number,
    String state,
    boolean merged,
    boolean draft,
    String title,
    String headSha,
    String headRef,
    String baseSha,
    String baseRef,
    Optional<String> mergeCommitSha,
    int changedFiles,
    int additions,
    int deletions,
    Instant updatedAt) {

  public GhPullSummary summary() {
    return new GhPullSummary(
        id, number, state, draft, title, headSha, headRef, baseSha, baseRef, updatedAt);
  }
}
