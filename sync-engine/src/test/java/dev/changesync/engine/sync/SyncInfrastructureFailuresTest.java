package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.base.Throwables;
import dev.changesync.engine.db.DbTime;
import dev.changesync.lease.RunOutcome;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakePr;
import dev.changesync.testkit.github.FakeRepo;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Infrastructure failures (the database, GitHub 5xx, credentials) end the pass with the lane's
 * backoff and blame no pull request; a PR's own failure (GitHub's 404 / 422 for it) is marked on
 * the PR and the work goes on. {@code last_error} stays short and free of internals.
 *
 * <p>Database failures are induced by a trigger on {@code pr_snapshot} that fires for one PR.
 */
class SyncInfrastructureFailuresTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private SyncFixture fx;
  private Worker worker;

  @BeforeEach
  void setUp() throws Exception {
    fx = new SyncFixture(db);
    worker = fx.worker("infra");
  }

  @AfterEach
  void tearDown() throws SQLException {
    try {
      sql("drop trigger if exists test_snapshot_fault on pr_snapshot;"
          + " drop function if exists test_snapshot_fault()");
    } finally {
      fx.close();
    }
  }

  private void sql(String statements) throws SQLException {
    fx.jdbi.<SQLException>useHandle(
        h -> {
          // Plain JDBC: the function bodies are not JDBI statements.
          try (Statement s = h.getConnection().createStatement()) {
            s.execute(statements);
          }
        });
  }

  /** Every write of PR {@code number}'s snapshot runs {@code action} (PL/pgSQL) instead. */
  private void snapshotWriteOf(int number, String action) throws SQLException {
    sql(
        """
        create or replace function test_snapshot_fault() returns trigger language plpgsql as $f$
        begin
          if new.number = %d then
            %s;
          end if;
          return new;
        end $f$;
        create trigger test_snapshot_fault before insert or update on pr_snapshot
          for each row execute function test_snapshot_fault();
        """
            .formatted(number, action));
  }

  private void databaseRecovers() throws SQLException {
    sql("drop trigger test_snapshot_fault on pr_snapshot; drop function test_snapshot_fault()");
  }

  private static Instant instant(Object timestamptz) {
    return timestamptz == null ? null : ((java.sql.Timestamp) timestamptz).toInstant();
  }

  private Map<String, Object> row(long id, int number) {
    return Objects.requireNonNull(fx.row(id, number), "no inventory row of #" + number);
  }

  private Map<String, Object> hint(int number) {
    return fx.jdbi.withHandle(
        h ->
            h.createQuery("select * from refresh_hint where number = :number")
                .bind("number", number)
                .mapToMap()
                .findOne()
                .orElse(null));
  }

  /** Six open PRs, scanned; the backfill walks them 6, 5, 4, 3, 2, 1. */
  private long sixScannedPulls() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(6);
    long id = fx.trackWithBackfill(repo, 0);
    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REQUESTED_FETCH);
    return id;
  }

  /** After an infrastructure failure at PR 3: nothing blamed, cursor before PR 3, backed off. */
  private void assertBackedOffBeforePull3(long id, PassResult backfill, String error) {
    assertThat(backfill.kind()).isEqualTo(WorkKind.BACKFILL);
    assertThat(backfill.succeeded()).isFalse();
    assertThat(fx.inventory(id)).noneMatch(r -> "failed".equals(r.get("freshness")));
    assertThat(row(id, 3)).containsEntry("freshness", null).containsEntry("last_error", null);
    Map<String, Object> state = fx.state(id);
    assertThat(state)
        .containsEntry("open_pr_cursor_number", 4)
        .containsEntry("open_pr_current", 3)
        .containsEntry("backfill_failure_count", 1)
        .containsEntry("last_error", "backfill: " + error);
    assertThat(instant(state.get("backfill_retry_after")))
        .isEqualTo(
            DbTime.truncate(fx.clock.instant().plus(SyncFixture.SETTINGS.retryBackoffBase())));
    assertThat(worker.runOnce()).as("backed off").isEmpty();
  }

  private void assertWalkCompletes(long id) {
    fx.clock.advance(SyncFixture.SETTINGS.retryBackoffBase());
    assertThat(fx.drain(worker)).isNotEmpty().allMatch(PassResult::succeeded);
    assertThat(fx.state(id))
        .containsEntry("open_pr_current", 6)
        .containsEntry("open_pr_cursor_number", null)
        .containsEntry("backfill_failure_count", 0)
        .containsEntry("last_error", null);
  }

  @Test
  void aLostDatabaseConnectionMidBackfillBlamesNoPullAndALaterPassCompletesTheWalk()
      throws SQLException {
    long id = sixScannedPulls();
    snapshotWriteOf(3, "perform pg_terminate_backend(pg_backend_pid())");

    PassResult backfill = worker.runOnce().orElseThrow();

    assertBackedOffBeforePull3(id, backfill, "database unavailable");
    databaseRecovers();
    assertWalkCompletes(id);
  }

  @Test
  void lastErrorNamesNoSqlOwnerOrTokenWhenTheDatabaseErrorDoes() throws SQLException {
    long id = sixScannedPulls();
    snapshotWriteOf(
        3,
        """
        raise exception 'refused: lease owner % token %',
          (select string_agg(owner_id, ',') from lease where owner_id is not null),
          (select string_agg(cast(token as text), ',') from lease where owner_id is not null)""");

    PassResult backfill = worker.runOnce().orElseThrow();

    assertThat(backfill.outcome())
        .isInstanceOfSatisfying(
            RunOutcome.Failed.class,
            failed ->
                assertThat(Throwables.getStackTraceAsString(failed.cause()))
                    .as("the induced error (the log's) carries SQL, the owner and the token")
                    .contains("insert into pr_snapshot", worker.owner().toString(), "token"));
    assertBackedOffBeforePull3(id, backfill, "database error while storing pull request #3");
    String error = (String) fx.state(id).get("last_error");
    assertThat(error)
        .doesNotContain(worker.owner().toString())
        .doesNotContainIgnoringCase("token")
        .doesNotContainIgnoringCase("insert")
        .doesNotContainIgnoringCase("pr_snapshot")
        .doesNotContain("Exception");
    databaseRecovers();
    assertWalkCompletes(id);
  }

  @Test
  void aRefreshKeepsItsHintThroughMoreThanMaxAttemptsOfInfrastructureFailureAndThenLands()
      throws SQLException {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(4);
    long id = fx.trackWithBackfill(repo, 0);
    fx.drain(worker);
    FakePr pr = repo.pr(3);
    pr.push();
    fx.hint(id, 3, "synchronize");
    snapshotWriteOf(3, "raise exception 'database trouble'");

    int tries = RefreshLane.MAX_ATTEMPTS + 2;
    for (int i = 0; i < tries; i++) {
      List<PassResult> passes = fx.drain(worker);
      assertThat(passes)
          .filteredOn(p -> p.kind() == WorkKind.REFRESH)
          .singleElement()
          .returns(false, PassResult::succeeded);
      assertThat(hint(3))
          .as("attempt %d", i + 1)
          .isNotNull()
          .containsEntry("attempts", 0)
          .containsEntry("last_error", null);
      fx.clock.advance(SyncFixture.SETTINGS.retryBackoffCap());
    }
    assertThat(fx.state(id)).containsEntry("refresh_failure_count", tries);

    databaseRecovers();
    fx.drain(worker);

    assertThat(hint(3)).isNull();
    assertThat(row(id, 3))
        .containsEntry("head_sha", pr.headSha())
        .containsEntry("freshness", "current");
    assertThat(fx.state(id)).containsEntry("refresh_failure_count", 0);
  }

  @Test
  void aGitHubServerErrorMidBackfillBlamesNoPull() {
    long id = sixScannedPulls();
    fx.fake.failPath("/repos/acme/widgets/pulls/3", 502);

    PassResult backfill = worker.runOnce().orElseThrow();

    assertBackedOffBeforePull3(id, backfill, "GitHub returned 502 for pull request #3");
    fx.fake.clearFaults();
    assertWalkCompletes(id);
  }

  @Test
  void aRefreshThatGitHubFailsOrRefusesKeepsItsHintUntouched() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(3);
    long id = fx.trackWithBackfill(repo, 0);
    fx.drain(worker);
    repo.pr(2).push();
    fx.hint(id, 2, "synchronize");

    fx.fake.failPath("/repos/acme/widgets/pulls/2/files", 503);
    assertThat(worker.runOnce().orElseThrow())
        .returns(WorkKind.REFRESH, PassResult::kind)
        .returns(false, PassResult::succeeded);
    assertThat(hint(2)).containsEntry("attempts", 0).containsEntry("last_error", null);
    assertThat(fx.state(id))
        .containsEntry("refresh_failure_count", 1)
        .containsEntry("last_error", "refresh: GitHub returned 503 for pull request #2");

    fx.fake.clearFaults();
    fx.fake.revokeToken(FakeGitHub.DEFAULT_TOKEN);
    fx.clock.advance(SyncFixture.SETTINGS.retryBackoffBase());
    assertThat(worker.runOnce().orElseThrow())
        .returns(WorkKind.REFRESH, PassResult::kind)
        .returns(false, PassResult::succeeded);
    assertThat(hint(2)).containsEntry("attempts", 0);
    assertThat(fx.state(id))
        .containsEntry("refresh_failure_count", 2)
        .containsEntry("last_error", "refresh: GitHub rejected the credentials (401)");

    fx.fake.addToken(FakeGitHub.DEFAULT_TOKEN);
    fx.clock.advance(SyncFixture.SETTINGS.retryBackoffBase().multipliedBy(2));
    assertThat(worker.runOnce().orElseThrow().succeeded()).isTrue();
    assertThat(hint(2)).isNull();
    assertThat(row(id, 2)).containsEntry("freshness", "current");
  }

  @Test
  void gitHubsNotFoundOrValidationFailedForOnePullBlamesThatPullAndTheWorkGoesOn() {
    long id = sixScannedPulls();
    fx.fake.failPath("/repos/acme/widgets/pulls/3", 404);

    assertThat(fx.drain(worker)).allMatch(PassResult::succeeded);

    assertThat(row(id, 3))
        .containsEntry("freshness", "failed")
        .containsEntry("last_error", "GitHub returned 404 for pull request #3");
    assertThat(fx.state(id))
        .containsEntry("open_pr_current", 5)
        .containsEntry("open_pr_cursor_number", null)
        .containsEntry("last_error", null);

    // A refresh whose files GitHub refuses counts an attempt on its hint and waits its backoff.
    fx.fake.failPath("/repos/acme/widgets/pulls/5/files", 422);
    fx.hint(id, 5, "synchronize");
    assertThat(worker.runOnce().orElseThrow())
        .returns(WorkKind.REFRESH, PassResult::kind)
        .returns("0 hints refreshed, 1 failed", PassResult::detail);
    assertThat(hint(5))
        .containsEntry("attempts", 1)
        .containsEntry("last_error", "GitHub returned 422 for pull request #5");
    assertThat(fx.state(id)).containsEntry("refresh_failure_count", 0);
  }
}
