package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.base.Ticker;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import dev.changesync.testkit.github.RequestKind;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Which work a worker picks, when, and how far a backfill pass goes. */
class WorkPickingTest {

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

  @Test
  void requestedFetchesComeFirstThenRefreshesThenBackfillThenPeriodicFetches() {
    Worker worker = fx.worker("order");
    long periodic = fx.track(repo("periodic"));
    long backfill = fx.track(repo("backfill"));
    long refresh = fx.track(repo("refresh"));
    long requested = fx.track(repo("requested"));
    assertThat(fx.drain(worker))
        .extracting(PassResult::kind)
        .containsOnly(WorkKind.REQUESTED_FETCH)
        .hasSize(4);

    fx.clock.advance(Duration.ofMinutes(2));
    sql(
        "update repository_sync_state set last_open_pr_scan_at = last_open_pr_scan_at - interval '7 hours'"
            + " where repository_id = ?",
        periodic);
    sql(
        "update repository_sync_state set backfill_mode = 'open_only', backfill_retry_after = null where repository_id = ?",
        backfill);
    fx.hint(refresh, 1, "synchronize");
    fx.requestFetch(requested);
    fx.clock.advance(SyncFixture.SETTINGS.webhookDebounce());

    List<PassResult> passes = fx.drain(worker);

    assertThat(passes)
        .extracting(PassResult::kind, PassResult::repositoryId)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(WorkKind.REQUESTED_FETCH, requested),
            org.assertj.core.groups.Tuple.tuple(WorkKind.REFRESH, refresh),
            org.assertj.core.groups.Tuple.tuple(WorkKind.BACKFILL, backfill),
            org.assertj.core.groups.Tuple.tuple(WorkKind.PERIODIC_FETCH, periodic));
    assertThat(passes).allMatch(PassResult::succeeded);
  }

  private FakeRepo repo(String name) {
    FakeRepo repo = fx.fake.createRepo("acme", name);
    repo.openPrs(2, PrSpec.files(1));
    return repo;
  }

  @Test
  void aDirtyRepositoryWaitsForTheDebounceAndTheMinimumFetchInterval() {
    Worker worker = fx.worker("debounce");
    long id = fx.track(repo("widgets"));
    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REQUESTED_FETCH);

    fx.clock.advance(Duration.ofSeconds(5));
    fx.requestFetch(id);
    fx.clock.advance(Duration.ofSeconds(10));
    assertThat(worker.runOnce()).as("within the debounce").isEmpty();
    fx.requestFetch(id); // more webhooks do not push the debounce further out
    fx.clock.advance(Duration.ofSeconds(15));
    assertThat(worker.runOnce()).as("within the minimum fetch interval").isEmpty();
    fx.clock.advance(Duration.ofSeconds(30));
    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REQUESTED_FETCH);
    assertThat(fx.state(id)).containsEntry("dirty", false);

    // The inventory's maximum age brings it back without any request.
    fx.clock.advance(SyncFixture.SETTINGS.inventoryMaxAge().minusSeconds(1));
    assertThat(worker.runOnce()).isEmpty();
    fx.clock.advance(Duration.ofSeconds(1));
    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.PERIODIC_FETCH);
  }

  @Test
  void backfillTakesTheHighestPriorityFirstAndSpacesPassesByTheInterval() {
    SyncSettings settings =
        SyncFixture.SETTINGS.toBuilder()
            .backfillMaxPulls(2)
            .backfillInterval(Duration.ofSeconds(5))
            .build();
    Worker worker = fx.worker("priority", settings, fx.github);
    long low = fx.trackWithBackfill(repo("low"), 1);
    long high = fx.trackWithBackfill(repo("high"), 5);
    fx.drain(worker);
    // Reset to "never backfilled", both with missing rows.
    sql("update open_pr set freshness = null");
    sql("update repository_sync_state set last_backfill_finished_at = null, open_pr_current = 0");

    PassResult first = worker.runOnce().orElseThrow();
    PassResult second = worker.runOnce().orElseThrow();

    assertThat(first).returns(WorkKind.BACKFILL, PassResult::kind).returns(high, PassResult::repositoryId);
    assertThat(second).returns(WorkKind.BACKFILL, PassResult::kind).returns(low, PassResult::repositoryId);
    // Both walks are done (2 PRs each) but a pass just ended: nothing until the interval passes.
    sql("update open_pr set freshness = null where number = 1");
    assertThat(worker.runOnce()).isEmpty();
    fx.clock.advance(Duration.ofSeconds(5));
    assertThat(worker.runOnce().orElseThrow()).returns(high, PassResult::repositoryId);
  }

  @Test
  void aLeaseHeldElsewhereIsSkippedForOtherWork() {
    Worker worker = fx.worker("skipper");
    long first = fx.track(repo("first"));
    long second = fx.track(repo("second"));
    fx.store.claim(
        Lanes.key(first, Lanes.FETCH), OwnerId.newIncarnation("someone-else"), LeasePolicy.defaults());

    assertThat(worker.runOnce().orElseThrow())
        .returns(WorkKind.REQUESTED_FETCH, PassResult::kind)
        .returns(second, PassResult::repositoryId);
    assertThat(worker.runOnce()).as("the held lease is never taken").isEmpty();
  }

  @Test
  void aBackfillPassStopsAfterMaxPullsAndTheNextResumesFromTheCursor() {
    SyncSettings settings = SyncFixture.SETTINGS.toBuilder().backfillMaxPulls(4).build();
    Worker worker = fx.worker("cursor", settings, fx.github);
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(10, PrSpec.files(2));
    long id = fx.trackWithBackfill(repo, 0);
    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REQUESTED_FETCH);

    assertThat(worker.runOnce().orElseThrow().detail()).contains("4 PRs rebuilt", "continues");
    assertThat(fx.state(id)).containsEntry("open_pr_cursor_number", 7).containsEntry("open_pr_current", 4);
    assertThat(worker.runOnce().orElseThrow().detail()).contains("4 PRs rebuilt");
    assertThat(fx.state(id)).containsEntry("open_pr_cursor_number", 3);
    assertThat(worker.runOnce().orElseThrow().detail()).contains("2 PRs rebuilt", "complete");
    assertThat(fx.state(id))
        .containsEntry("open_pr_cursor_number", null)
        .containsEntry("open_pr_cursor_updated_at", null)
        .containsEntry("open_pr_current", 10);
    assertThat(worker.runOnce()).isEmpty();
    assertThat(fx.requestsPerPull(RequestKind.PULL)).hasSize(10).containsOnlyKeys(
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    assertThat(fx.requestsPerPull(RequestKind.PULL).values()).containsOnly(1);
  }

  @Test
  void aBackfillPassStopsAfterItsMaxRuntimeOnTheWorkersTicker() {
    AtomicLong nanos = new AtomicLong();
    Ticker ticker =
        new Ticker() {
          @Override
          public long read() {
            return nanos.get();
          }
        };
    // Every PR "takes" ten minutes; a pass may run 25.
    HookedGitHub slow =
        new HookedGitHub(fx.github)
            .beforePull(n -> nanos.addAndGet(Duration.ofMinutes(10).toNanos()));
    SyncSettings settings =
        SyncFixture.SETTINGS.toBuilder().backfillMaxRuntime(Duration.ofMinutes(25)).build();
    Worker worker = fx.worker("runtime", settings, slow, b -> b.ticker(ticker));
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(5, PrSpec.files(1));
    long id = fx.trackWithBackfill(repo, 0);
    worker.runOnce();

    PassResult pass = worker.runOnce().orElseThrow();

    assertThat(pass.kind()).isEqualTo(WorkKind.BACKFILL);
    assertThat(pass.detail()).contains("3 PRs rebuilt", "continues");
    assertThat(pass.took()).isEqualTo(Duration.ofMinutes(30));
    assertThat(fx.state(id)).containsEntry("open_pr_current", 3);
  }
}
