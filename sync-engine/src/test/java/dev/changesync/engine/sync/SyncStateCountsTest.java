package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.repo.Repositories;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.util.List;
import java.util.Random;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The open-PR counts kept per PR change ({@link SyncState#recountPull}) always equal a full recount
 * of the inventory, over random sequences of every kind of row change.
 */
class SyncStateCountsTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  /** What a PR's inventory row becomes: gone, or present with this freshness. */
  private static final List<String> TARGETS =
      List.of("gone", "missing", "current", "stale_head_changed", "stale_base_moved", "failed");

  private final SyncState state = new SyncState(DbTime.database());
  private Jdbi jdbi;
  private long repo;

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    jdbi = Jdbi.create(db.dataSource());
    repo = new Repositories(jdbi, DbTime.database()).track(RepoName.of("acme", "widgets")).id();
  }

  @Test
  void perPullCountsMatchAFullRecountAfterEveryChange() {
    for (long seed = 1; seed <= 5; seed++) {
      Random random = new Random(seed);
      for (int step = 0; step < 200; step++) {
        int number = 1 + random.nextInt(6);
        String target = TARGETS.get(random.nextInt(TARGETS.size()));
        jdbi.useTransaction(
            h -> state.changePull(h, repo, number, () -> change(h, number, target)));
        String where = "seed " + seed + ", step " + step + ": PR #" + number + " -> " + target;
        assertThat(kept()).as(where).isEqualTo(recounted());
      }
    }
    assertThat(kept()).isNotEqualTo(List.of(0L, 0L, 0L));
  }

  @Test
  void aChangeWithinTheStaleBucketLeavesTheCountsAlone() {
    jdbi.useTransaction(
        h -> state.changePull(h, repo, 7, () -> change(h, 7, "stale_head_changed")));
    SyncState.Bucket stale = jdbi.inTransaction(h -> state.bucket(h, repo, 7));
    jdbi.useTransaction(h -> state.changePull(h, repo, 7, () -> change(h, 7, "failed")));

    assertThat(stale).isEqualTo(SyncState.Bucket.STALE);
    assertThat(kept()).containsExactly(1L, 0L, 1L);
  }

  private void change(Handle h, int number, String target) {
    if (target.equals("gone")) {
      h.execute("delete from open_pr where repository_id = ? and number = ?", repo, number);
      return;
    }
    String freshness = target.equals("missing") ? null : target;
    // A current row's snapshot is of its head; any other row's snapshot may be of an older one.
    String snapshotHead = target.equals("current") ? "head" : "older";
    h.createUpdate(
            """
            insert into open_pr (repository_id, number, head_sha, base_sha, base_ref, updated_at,
                                 freshness, snapshot_head_sha)
            values (:repo, :number, 'head', 'base', 'main', now(), :freshness, :snapshot_head)
            on conflict (repository_id, number) do update
               set freshness = excluded.freshness, snapshot_head_sha = excluded.snapshot_head_sha
            """)
        .bind("repo", repo)
        .bind("number", number)
        .bind("freshness", freshness)
        .bind("snapshot_head", snapshotHead)
        .execute();
  }

  /** total, current, stale as kept in the state row. */
  private List<Long> kept() {
    return jdbi.withHandle(
        h ->
            h.select(
                    "select open_pr_total, open_pr_current, open_pr_stale"
                        + " from repository_sync_state where repository_id = ?",
                    repo)
                .map((rs, ctx) -> List.of(rs.getLong(1), rs.getLong(2), rs.getLong(3)))
                .one());
  }

  /** total, current, stale counted from the inventory. */
  private List<Long> recounted() {
    return jdbi.withHandle(
        h ->
            h.select(
                    """
                    select count(*), count(*) filter (where freshness = 'current'),
                           count(*) filter (where freshness in
                                              ('stale_head_changed', 'stale_base_moved', 'failed'))
                      from open_pr where repository_id = ?
                    """,
                    repo)
                .map((rs, ctx) -> List.of(rs.getLong(1), rs.getLong(2), rs.getLong(3)))
                .one());
  }
}
