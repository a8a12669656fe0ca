package dev.changesync.engine.github;

/**
 * Two commits compared ({@code GET /repos/{owner}/{repo}/compare/{base}...{head}}), the fields
 * changesync uses.
 *
 * @param mergeBaseSha {@code merge_base_commit.sha}: the newest common ancestor of base and head,
 *     the commit a pull request's diff is taken against
 * @param status {@code ahead}, {@code behind}, {@code diverged} or {@code identical} (as GitHub
 *     sends it; empty when it sent none)
 * @param aheadBy commits in head that base lacks
 * @param behindBy commits in base that head lacks
 */
public record GhComparison(String mergeBaseSha, String status, int aheadBy, int behindBy) {}
