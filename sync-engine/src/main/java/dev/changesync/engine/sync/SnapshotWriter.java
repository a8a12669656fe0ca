package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.GhFile;
import dev.changesync.engine.github.GhPull;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * Writes the snapshot of one pull request — {@code pr_snapshot}, its {@code snapshot_file} rows and
 * their {@code snapshot_hunk} rows — inside the caller's (guarded) transaction.
 *
 * <p><b>Idempotent.</b> Every row has a natural key (repository, number, file ordinal, hunk
 * ordinal), the snapshot row is upserted and the file rows of the PR are deleted and inserted
 * again, so writing the same PR at the same head twice leaves identical file and hunk rows (only
 * {@code indexed_at} moves).
 *
 * <p><b>Never backwards.</b> Two lanes may rebuild the same PR at once (a refresh after a webhook
 * and a backfill walk hold different leases). The upsert keeps the snapshot whose GitHub {@code
 * updated_at} is newer, so a slow pass that read the PR before a push cannot overwrite the snapshot
 * taken after it; {@link #write} then reports that it wrote nothing.
 */
final class SnapshotWriter {

  private final DbTime time;

  SnapshotWriter(DbTime time) {
    this.time = requireNonNull(time, "time");
  }

  private static final String UPSERT_SNAPSHOT =
      """
      insert into pr_snapshot as s (repository_id, number, github_id, title, state, merged, draft,
                                    head_sha, head_ref, base_sha, base_ref, merge_base_sha,
                                    files_truncated, changed_files, additions, deletions,
                                    updated_at, indexed_at)
      values (:repo, :number, :github_id, :title, :state, :merged, :draft,
              :head_sha, :head_ref, :base_sha, :base_ref, :merge_base_sha,
              :files_truncated, :changed_files, :additions, :deletions,
              :updated_at, %s)
      on conflict (repository_id, number) do update set
             github_id = excluded.github_id, title = excluded.title, state = excluded.state,
             merged = excluded.merged, draft = excluded.draft, head_sha = excluded.head_sha,
             head_ref = excluded.head_ref, base_sha = excluded.base_sha,
             base_ref = excluded.base_ref, merge_base_sha = excluded.merge_base_sha,
             files_truncated = excluded.files_truncated, changed_files = excluded.changed_files,
             additions = excluded.additions, deletions = excluded.deletions,
             updated_at = excluded.updated_at, indexed_at = excluded.indexed_at
       where s.updated_at is null or excluded.updated_at is null
          or excluded.updated_at >= s.updated_at
      returning 1
      """
          .formatted(DbTime.NOW);

  /**
   * Writes the snapshot of {@code pull} with {@code files} (as GitHub listed them, at most {@link
   * dev.changesync.engine.github.GitHub#MAX_FILES}) and the merge base of its base and head SHAs,
   * if known. Returns false, having written nothing, when a snapshot of a newer version of the PR
   * is already stored.
   */
  boolean write(
      Handle h, long repositoryId, GhPull pull, List<GhFile> files, Optional<String> mergeBaseSha) {
    boolean written =
        time.bind(h.createQuery(UPSERT_SNAPSHOT))
            .bind("repo", repositoryId)
            .bind("number", pull.number())
            .bind("github_id", pull.id())
            .bind("title", pull.title())
            .bind("state", snapshotState(pull.state()))
            .bind("merged", pull.merged())
            .bind("draft", pull.draft())
            .bind("head_sha", pull.headSha())
            .bind("head_ref", pull.headRef())
            .bind("base_sha", pull.baseSha())
            .bind("base_ref", pull.baseRef())
            .bindByType("merge_base_sha", mergeBaseSha.orElse(null), String.class)
            .bind("files_truncated", pull.changedFiles() > files.size())
            .bind("changed_files", Math.max(0, pull.changedFiles()))
            .bind("additions", Math.max(0, pull.additions()))
            .bind("deletions", Math.max(0, pull.deletions()))
            .bindByType("updated_at", offset(pull), OffsetDateTime.class)
            .mapTo(Integer.class)
            .findOne()
            .isPresent();
    if (!written) {
      return false;
    }
    // Hunks go with their files (on delete cascade).
    h.createUpdate("delete from snapshot_file where repository_id = :repo and number = :number")
        .bind("repo", repositoryId)
        .bind("number", pull.number())
        .execute();
    if (files.isEmpty()) {
      return true;
    }
    PreparedBatch fileBatch =
        h.prepareBatch(
            """
            insert into snapshot_file (repository_id, number, ordinal, path, previous_path, status,
                                       additions, deletions, changes, blob_sha, patch)
            values (:repo, :number, :ordinal, :path, :previous_path, :status,
                    :additions, :deletions, :changes, :blob_sha, :patch)
            """);
    PreparedBatch hunkBatch =
        h.prepareBatch(
            """
            insert into snapshot_hunk (repository_id, number, file_ordinal, ordinal,
                                       old_start, old_count, new_start, new_count, section)
            values (:repo, :number, :file_ordinal, :ordinal,
                    :old_start, :old_count, :new_start, :new_count, :section)
            """);
    int hunkRows = 0;
    for (int ordinal = 0; ordinal < files.size(); ordinal++) {
      GhFile file = files.get(ordinal);
      String patch = file.patch().orElse(null);
      fileBatch
          .bind("repo", repositoryId)
          .bind("number", pull.number())
          .bind("ordinal", ordinal)
          .bind("path", file.filename())
          .bind("previous_path", file.previousFilename().orElse(null))
          .bind("status", file.status() == null ? "unknown" : file.status())
          .bind("additions", Math.max(0, file.additions()))
          .bind("deletions", Math.max(0, file.deletions()))
          .bind("changes", Math.max(0, file.changes()))
          .bind("blob_sha", file.sha().orElse(null))
          .bind("patch", patch)
          .add();
      List<PatchParser.Hunk> hunks = PatchParser.parse(patch);
      for (int i = 0; i < hunks.size(); i++) {
        PatchParser.Hunk hunk = hunks.get(i);
        hunkBatch
            .bind("repo", repositoryId)
            .bind("number", pull.number())
            .bind("file_ordinal", ordinal)
            .bind("ordinal", i)
            .bind("old_start", hunk.oldStart())
            .bind("old_count", hunk.oldCount())
            .bind("new_start", hunk.newStart())
            .bind("new_count", hunk.newCount())
            .bind("section", hunk.section().orElse(null))
            .add();
        hunkRows++;
      }
    }
    fileBatch.execute();
    if (hunkRows > 0) {
      hunkBatch.execute();
    }
    return true;
  }

  /**
   * Records that {@code pull} is no longer open on the stored snapshot, if there is one, without
   * rebuilding its files (a closed PR's files are not worth the rate limit).
   */
  void markClosed(Handle h, long repositoryId, GhPull pull) {
    h.createUpdate(
            """
            update pr_snapshot set state = 'closed', merged = :merged, title = :title,
                   updated_at = :updated_at
             where repository_id = :repo and number = :number
               and (updated_at is null or :updated_at is null or updated_at <= :updated_at)
            """)
        .bind("repo", repositoryId)
        .bind("number", pull.number())
        .bind("merged", pull.merged())
        .bind("title", pull.title())
        .bindByType("updated_at", offset(pull), OffsetDateTime.class)
        .execute();
  }

  static String snapshotState(String githubState) {
    return "open".equalsIgnoreCase(githubState) ? "open" : "closed";
  }

  private static OffsetDateTime offset(GhPull pull) {
    return pull.updatedAt() == null
        ? null
        : OffsetDateTime.ofInstant(DbTime.truncate(pull.updatedAt()), ZoneOffset.UTC);
  }
}
