package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** No kind of work, and no repository, waits behind a backlog of others for more than a bound. */
class FairPickingTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private SyncFixture fx;

  @BeforeEach
  void setUp() throws Exception {
    fx = new SyncFixture(db);
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  private void sql(String sql, Object... args) {
    fx.jdbi.useHandle(h -> h.execute(sql, args));
  }

  private FakeRepo repo(String name, int pulls) {
    FakeRepo repo = fx.fake.createRepo("acme", name);
    repo.openPrs(pulls, PrSpec.files(1));
    return repo;
  }

  /** {@code n} picks, each taking a second. */
  private List<PassResult> picks(Worker worker, int n) {
    List<PassResult> passes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      passes.add(worker.runOnce().orElseThrow(() -> new AssertionError("nothing to pick")));
      fx.clock.advance(Duration.ofSeconds(1));
    }
    return passes;
  }

  @Test
  void aPeriodicFetchIsPickedWithinFourPicksOfABacklogOfRefreshes() {
    Worker worker = fx.worker("fair");
    long periodic = fx.track(repo("periodic", 1));
    List<Long> busy = new ArrayList<>();
    for (int i = 0; i < 2 * PickOrder.SHARE; i++) {
      busy.add(fx.track(repo("busy-" + i, 1)));
    }
    fx.drain(worker);
    fx.clock.advance(Duration.ofMinutes(2));
    sql(
        "update repository_sync_state set last_open_pr_scan_at = last_open_pr_scan_at"
            + " - interval '7 hours' where repository_id = ?",
        periodic);
    for (long id : busy) {
      fx.hint(id, 1, "synchronize");
    }
    fx.clock.advance(SyncFixture.SETTINGS.webhookDebounce());

    List<PassResult> passes = picks(worker, PickOrder.SHARE);

    assertThat(passes)
        .as("more refreshes were due than picks were made")
        .filteredOn(p -> p.kind() == WorkKind.REFRESH)
        .hasSizeGreaterThanOrEqualTo(PickOrder.SHARE - 1);
    assertThat(passes)
        .extracting(PassResult::kind, PassResult::repositoryId)
        .contains(org.assertj.core.groups.Tuple.tuple(WorkKind.PERIODIC_FETCH, periodic));
  }

  @Test
  void backfillGoesRoundRepositoriesOfEqualPriority() {
    SyncSettings settings = SyncFixture.SETTINGS.toBuilder().backfillMaxPulls(1).build();
    Worker worker = fx.worker("round", settings, fx.github);
    long first = fx.track(repo("first", 4));
    long second = fx.track(repo("second", 4));
    fx.drain(worker);
    sql("update open_pr set freshness = null");
    sql(
        "update repository_sync_state set backfill_mode = 'open_only', backfill_priority = 3,"
            + " backfill_retry_after = null");

    List<PassResult> passes = picks(worker, 4);

    assertThat(passes).extracting(PassResult::kind).containsOnly(WorkKind.BACKFILL);
    assertThat(passes)
        .extracting(PassResult::repositoryId)
        .containsExactly(first, second, first, second);
  }

  @Test
  void onboardingManyRepositoriesHoldsAWebhookFetchBackByOnePickAtMost() {
    Worker worker = fx.worker("onboarding");
    long dirty = fx.track(repo("dirty", 1));
    fx.drain(worker);
    fx.clock.advance(Duration.ofMinutes(2));
    for (int i = 0; i < 10; i++) {
      fx.track(repo("new-" + i, 1));
    }
    fx.requestFetch(dirty);
    fx.clock.advance(SyncFixture.SETTINGS.webhookDebounce());

    List<PassResult> passes = picks(worker, 2);

    assertThat(passes).extracting(PassResult::kind).containsOnly(WorkKind.REQUESTED_FETCH);
    assertThat(passes).extracting(PassResult::repositoryId).contains(dirty);
  }
}
