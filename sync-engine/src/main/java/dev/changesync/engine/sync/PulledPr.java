package dev.changesync.engine.sync;

import dev.changesync.engine.github.Conditional;
import dev.changesync.engine.github.GhFile;
import dev.changesync.engine.github.GhPull;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.github.KnownETags;
import dev.changesync.engine.github.Validator;
import dev.changesync.engine.repo.RepoName;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * One pull request as GitHub shows it now — the PR and, while it is open, its files and merge
 * base — ready to land in its snapshot and inventory row; or {@linkplain #unchanged() unchanged}
 * since the
 * snapshot stored with the validators GitHub just confirmed. Refresh and backfill both rebuild PRs
 * this way.
 *
 * <p><b>When a PR counts as unchanged.</b> Validators of a PR are stored ({@link ETagStore}) only
 * together with a snapshot written from the same responses: the PR's and every page of its files.
 * The PR is unchanged when GitHub answers 304 to the PR's stored {@code ETag} <em>and</em> to
 * every stored page of its files (the files list can change without the PR object, e.g. when the
 * base branch moves). Then the stored snapshot is what GitHub shows and nothing is written. If the
 * PR is confirmed but its files are not, the PR is asked for again (without validators) so that
 * the snapshot can be rebuilt from both. A closed PR's validators are not kept: its snapshot is
 * only marked closed, and a closed PR is rarely asked for again.
 *
 * @param pull the PR; null when unchanged
 * @param files its files (empty when closed or unchanged)
 * @param mergeBaseSha its merge base (see {@link MergeBases}: no request while head and base are
 *     those of the stored snapshot); empty when closed, unchanged or not known
 * @param validators when unchanged, the ones GitHub confirmed; else the ones to store with the
 *     snapshot (an entry without an {@code ETag} deletes a stored one)
 */
record PulledPr(
    GhPull pull, List<GhFile> files, Optional<String> mergeBaseSha, List<Validator> validators) {

  /** True when GitHub confirmed the stored snapshot: there is nothing to write. */
  boolean unchanged() {
    return pull == null;
  }

  /**
   * GET the PR, and when it is open its files and its merge base; checks {@code pass} between
   * pages. An unchanged PR keeps the merge base stored with its snapshot.
   */
  static PulledPr fetch(
      GitHub github,
      MergeBases mergeBases,
      Pass pass,
      RepoName name,
      int number,
      KnownETags known) {
    Conditional<GhPull> conditional = github.pull(name.owner(), name.name(), number, known);
    if (conditional instanceof Conditional.Unchanged<GhPull> unchangedPull) {
      pass.checkpoint();
      Conditional<List<GhFile>> files = PullFiles.list(github, pass, name, number, known);
      if (files instanceof Conditional.Unchanged) {
        List<Validator> confirmed = new ArrayList<>(unchangedPull.validators());
        confirmed.addAll(files.validators());
        return new PulledPr(null, List.of(), Optional.empty(), List.copyOf(confirmed));
      }
      // The files moved without the PR: the snapshot needs the PR's body, which was not kept.
      pass.checkpoint();
      Conditional.Changed<GhPull> again =
          (Conditional.Changed<GhPull>)
              github.pull(name.owner(), name.name(), number, KnownETags.NONE);
      return of(mergeBases, pass, name, again, (Conditional.Changed<List<GhFile>>) files);
    }
    Conditional.Changed<GhPull> changed = (Conditional.Changed<GhPull>) conditional;
    if (!isOpen(changed.value())) {
      return of(mergeBases, pass, name, changed, null);
    }
    pass.checkpoint();
    // The PR changed, so the snapshot is rebuilt from the files as listed now.
    Conditional<List<GhFile>> files = PullFiles.list(github, pass, name, number, KnownETags.NONE);
    return of(mergeBases, pass, name, changed, (Conditional.Changed<List<GhFile>>) files);
  }

  private static PulledPr of(
      MergeBases mergeBases,
      Pass pass,
      RepoName name,
      Conditional.Changed<GhPull> pull,
      Conditional.Changed<List<GhFile>> files) {
    if (files == null || !isOpen(pull.value())) {
      // Closed: forget the PR's stored ETag (it stood for the open snapshot), keep nothing new.
      List<Validator> forget = new ArrayList<>();
      for (Validator v : pull.validators()) {
        forget.add(new Validator(v.credential(), v.url(), null, null, 0));
      }
      return new PulledPr(pull.value(), List.of(), Optional.empty(), List.copyOf(forget));
    }
    List<Validator> validators = new ArrayList<>(pull.validators());
    validators.addAll(files.validators());
    Optional<String> mergeBase = mergeBases.of(pass, name, pull.value());
    return new PulledPr(pull.value(), files.value(), mergeBase, List.copyOf(validators));
  }

  private static boolean isOpen(GhPull pull) {
    return "open".equals(SnapshotWriter.snapshotState(pull.state()));
  }

  /**
   * Writes the snapshot and updates the inventory row: an open PR's row becomes current (inserted
   * when missing only if {@code insertRow}); a closed PR's snapshot is marked closed and its row
   * deleted. When a newer snapshot is already stored (another pass got there first), the row is
   * left to the pass that wrote it, and no validator is stored. An {@linkplain #unchanged()
   * unchanged} PR writes nothing but the confirmation of its validators. The caller holds the
   * repository's sync-state lock.
   */
  void apply(
      Handle h,
      long repositoryId,
      SnapshotWriter snapshots,
      Inventory inventory,
      ETagStore etags,
      boolean insertRow) {
    if (unchanged()) {
      etags.confirm(h, validators);
    } else if (isOpen(pull)) {
      if (snapshots.write(h, repositoryId, pull, files, mergeBaseSha)) {
        inventory.upsertFromPull(h, repositoryId, pull, insertRow);
        etags.store(h, repositoryId, validators);
      }
    } else {
      snapshots.markClosed(h, repositoryId, pull);
      inventory.delete(h, repositoryId, pull.number());
      etags.store(h, repositoryId, validators);
    }
  }
}
