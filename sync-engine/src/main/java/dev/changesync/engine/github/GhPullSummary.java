package dev.changesync.engine.github;

import java.time.Instant;

/** A pull request as the open-PR list shows it. */
public record GhPullSummary(
    long id,
    int number,
    String state,
    boolean draft,
    String title,
    String headSha,
    String headRef,
    String baseSha,
    String baseRef,
    Instant updatedAt) {}
