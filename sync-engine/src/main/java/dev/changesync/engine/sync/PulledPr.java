package dev.changesync.engine.sync;

import dev.changesync.engine.github.GhFile;
import dev.changesync.engine.github.GhPull;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.repo.RepoName;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * One pull request as GitHub shows it now — the PR and, while it is open, its files and merge
 * base — ready to land in its snapshot and inventory row. Refresh and backfill both rebuild PRs
 * this way.
 */
record PulledPr(GhPull pull, List<GhFile> files, Optional<String> mergeBaseSha) {

  /**
   * GET the PR, and when it is open its files and its merge base (see {@link MergeBases}: no
   * request while head and base are those of the stored snapshot); checks {@code pass} between
   * pages.
   */
  static PulledPr fetch(
      GitHub github, MergeBases mergeBases, Pass pass, RepoName name, int number) {
    GhPull pull = github.pull(name.owner(), name.name(), number);
    if (!isOpen(pull)) {
      return new PulledPr(pull, List.of(), Optional.empty());
    }
    List<GhFile> files = PullFiles.list(github, pass, name, number);
    return new PulledPr(pull, files, mergeBases.of(pass, name, pull));
  }

  private static boolean isOpen(GhPull pull) {
    return "open".equals(SnapshotWriter.snapshotState(pull.state()));
  }

  /**
   * Writes the snapshot and updates the inventory row: an open PR's row becomes current (inserted
   * when missing only if {@code insertRow}); a closed PR's snapshot is marked closed and its row
   * deleted. When a newer snapshot is already stored (another pass got there first), the row is
   * left to the pass that wrote it. The caller holds the repository's sync-state lock.
   */
  void apply(
      Handle h,
      long repositoryId,
      SnapshotWriter snapshots,
      Inventory inventory,
      boolean insertRow) {
    if (isOpen(pull)) {
      if (snapshots.write(h, repositoryId, pull, files, mergeBaseSha)) {
        inventory.upsertFromPull(h, repositoryId, pull, insertRow);
      }
    } else {
      snapshots.markClosed(h, repositoryId, pull);
      inventory.delete(h, repositoryId, pull.number());
    }
  }
}
