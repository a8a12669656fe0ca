package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.GhPull;
import dev.changesync.engine.github.GhPullSummary;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * The open-PR inventory ({@code open_pr}) and the freshness rules.
 *
 * <p><b>Freshness</b> of a row compares the PR's head and base, as GitHub last showed them, with
 * its stored snapshot:
 *
 * <ul>
 *   <li>no snapshot — null ("missing");
 *   <li>snapshot of another head, or of the PR while it was closed — {@code stale_head_changed};
 *   <li>same head, other base — {@code stale_base_moved};
 *   <li>same head and base — {@code current};
 *   <li>{@code failed} (the last rebuild failed) is kept while the head has not moved since; a push
 *       gives the PR another chance at once.
 * </ul>
 */
final class Inventory {

  private final DbTime time;

  Inventory(DbTime time) {
    this.time = requireNonNull(time, "time");
  }

  private static final String FRESHNESS_FROM_SNAPSHOT =
      """
      case when s.number is null then null
           when s.state <> 'open' or s.head_sha <> :head_sha then 'stale_head_changed'
           when s.base_sha <> :base_sha then 'stale_base_moved'
           else 'current' end""";

  private static final String UPSERT_FROM_LISTING =
      """
      insert into open_pr as o (repository_id, number, github_id, title, state, draft, head_sha,
                                base_sha, base_ref, updated_at, freshness, snapshot_head_sha,
                                snapshot_base_sha, snapshot_indexed_at, first_seen_at,
                                last_seen_at)
      select :repo, :number, :github_id, :title, 'open', :draft, :head_sha, :base_sha, :base_ref,
             :updated_at, %1$s, s.head_sha, s.base_sha, s.indexed_at, %2$s, %2$s
        from (select 1) one
        left join pr_snapshot s on s.repository_id = :repo and s.number = :number
      on conflict (repository_id, number) do update set
             github_id = excluded.github_id, title = excluded.title, state = 'open',
             draft = excluded.draft, head_sha = excluded.head_sha, base_sha = excluded.base_sha,
             base_ref = excluded.base_ref, updated_at = excluded.updated_at,
             freshness = case when o.freshness = 'failed' and o.head_sha = excluded.head_sha
                              then 'failed' else excluded.freshness end,
             last_error = case when o.freshness = 'failed' and o.head_sha = excluded.head_sha
                               then o.last_error else null end,
             snapshot_head_sha = excluded.snapshot_head_sha,
             snapshot_base_sha = excluded.snapshot_base_sha,
             snapshot_indexed_at = excluded.snapshot_indexed_at,
             last_seen_at = excluded.last_seen_at
      """
          .formatted(FRESHNESS_FROM_SNAPSHOT, DbTime.NOW);

  /** Upserts one page of the open-PR listing, each row's freshness judged against its snapshot. */
  void upsertListed(Handle h, long repositoryId, List<GhPullSummary> page) {
    if (page.isEmpty()) {
      return;
    }
    PreparedBatch batch = h.prepareBatch(UPSERT_FROM_LISTING);
    for (GhPullSummary pull : page) {
      bindRow(batch, repositoryId, pull).add();
    }
    batch.execute();
  }

  /**
   * Deletes the rows of PRs a complete scan did not list: not in {@code seen} and not touched since
   * the scan started (a refresh that found a PR open during the scan keeps its row).
   */
  int deleteUnlisted(Handle h, long repositoryId, Collection<Integer> seen, Instant scanStartedAt) {
    return h.createUpdate(
            """
            delete from open_pr o
             where o.repository_id = :repo and o.last_seen_at <= :scan_started_at
               and not exists (select 1 from unnest(:seen) as seen(number)
                                where seen.number = o.number)
            """)
        .bind("repo", repositoryId)
        .bindByType("scan_started_at", SyncState.offset(scanStartedAt), OffsetDateTime.class)
        .bindArray("seen", Integer.class, seen)
        .execute();
  }

  private static final String UPSERT_CURRENT =
      """
      insert into open_pr as o (repository_id, number, github_id, title, state, draft, head_sha,
                                base_sha, base_ref, updated_at, freshness, snapshot_head_sha,
                                snapshot_base_sha, snapshot_indexed_at, last_error,
                                first_seen_at, last_seen_at)
      select :repo, :number, :github_id, :title, 'open', :draft, :head_sha, :base_sha, :base_ref,
             :updated_at, %1$s, s.head_sha, s.base_sha, s.indexed_at, null, %2$s, %2$s
        from (select 1) one
        left join pr_snapshot s on s.repository_id = :repo and s.number = :number
       where :insert or exists (select 1 from open_pr e
                                 where e.repository_id = :repo and e.number = :number)
      on conflict (repository_id, number) do update set
             github_id = excluded.github_id, title = excluded.title, state = 'open',
             draft = excluded.draft, head_sha = excluded.head_sha, base_sha = excluded.base_sha,
             base_ref = excluded.base_ref, updated_at = excluded.updated_at,
             freshness = excluded.freshness, last_error = null,
             snapshot_head_sha = excluded.snapshot_head_sha,
             snapshot_base_sha = excluded.snapshot_base_sha,
             snapshot_indexed_at = excluded.snapshot_indexed_at,
             last_seen_at = excluded.last_seen_at
      """
          .formatted(FRESHNESS_FROM_SNAPSHOT, DbTime.NOW);

  /**
   * Sets the row of an open {@code pull} from the PR itself, its freshness judged against the
   * stored snapshot (current right after the snapshot was written). With {@code insert} a missing
   * row is created (a refresh of an opened or reopened PR); without it only an existing row is
   * updated (a backfill must not resurrect a row a scan deleted meanwhile). Returns whether a row
   * was written.
   */
  boolean upsertFromPull(Handle h, long repositoryId, GhPull pull, boolean insert) {
    return bindRow(h.createUpdate(UPSERT_CURRENT), repositoryId, pull.summary())
            .bind("insert", insert)
            .execute()
        > 0;
  }

  /** Binds now and the inventory columns GitHub tells about {@code pull}. */
  private <S extends SqlStatement<S>> S bindRow(S statement, long repositoryId, GhPullSummary pull) {
    return time.bind(statement)
        .bind("repo", repositoryId)
        .bind("number", pull.number())
        .bind("github_id", pull.id())
        .bind("title", pull.title())
        .bind("draft", pull.draft())
        .bind("head_sha", pull.headSha())
        .bind("base_sha", pull.baseSha())
        .bind("base_ref", pull.baseRef())
        .bindByType("updated_at", SyncState.offset(pull.updatedAt()), OffsetDateTime.class);
  }

  /** Deletes the row of a PR that is no longer open. */
  boolean delete(Handle h, long repositoryId, int number) {
    return h.createUpdate("delete from open_pr where repository_id = :repo and number = :number")
            .bind("repo", repositoryId)
            .bind("number", number)
            .execute()
        > 0;
  }

  /** Marks the row of a PR whose rebuild failed; the error stays on the row. */
  void markFailed(Handle h, long repositoryId, int number, String error) {
    h.createUpdate(
            """
            update open_pr set freshness = 'failed', last_error = :error
             where repository_id = :repo and number = :number
            """)
        .bind("repo", repositoryId)
        .bind("number", number)
        .bind("error", SyncState.truncate(error))
        .execute();
  }

  /** A row of the backfill walk: its walk key and number. */
  record WalkRow(int number, Instant updatedAt) {}

  /**
   * The next row of the backfill walk after the cursor (or the first, without one): not current,
   * newest first. The predicate is spelled exactly as the partial index {@code
   * open_pr_backfill_walk} was declared, so the planner walks the index.
   */
  Optional<WalkRow> nextToBackfill(Handle h, long repositoryId, Optional<WalkRow> cursor) {
    String sql =
        cursor.isPresent()
            ? """
              select number, updated_at from open_pr
               where repository_id = :repo and freshness is distinct from 'current'
                 and (updated_at, number) < (:cursor_updated_at, :cursor_number)
               order by updated_at desc, number desc
               limit 1
              """
            : """
              select number, updated_at from open_pr
               where repository_id = :repo and freshness is distinct from 'current'
               order by updated_at desc, number desc
               limit 1
              """;
    var query = h.createQuery(sql).bind("repo", repositoryId);
    cursor.ifPresent(
        c ->
            query
                .bindByType(
                    "cursor_updated_at", SyncState.offset(c.updatedAt()), OffsetDateTime.class)
                .bind("cursor_number", c.number()));
    return query
        .map(
            (rs, ctx) ->
                new WalkRow(
                    rs.getInt("number"),
                    rs.getObject("updated_at", OffsetDateTime.class).toInstant()))
        .findOne();
  }
}
