package dev.changesync.engine.sync;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.lease.WorkerRegistry;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.repo.Repositories;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.RecoveryReport;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Workers as they run in production: their own threads, database time, several on one database.
 * Real time is unavoidable here, so the tests wait on conditions, never on sleeps.
 */
class WorkerTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private SyncFixture fx;
  private Jdbi jdbi;
  private PostgresLeaseStore store;
  private Repositories repositories;
  private final List<Worker> workers = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    fx = new SyncFixture(db);
    jdbi = fx.jdbi;
    store = PostgresLeaseStore.builder(db.dataSource()).build(); // database time
    repositories = new Repositories(jdbi, DbTime.database());
  }

  @AfterEach
  void tearDown() {
    workers.forEach(w -> w.stop(Duration.ofSeconds(5)));
    fx.close();
  }

  private static final SyncSettings FAST =
      SyncSettings.builder()
          .pollEvery(Duration.ofMillis(20))
          .backfillInterval(Duration.ZERO)
          .backfillMaxPulls(3)
          .build();

  private Worker worker(String name, SyncSettings settings, List<PassResult> passes) {
    Worker worker =
        Worker.builder(store, fx.github)
            .owner(OwnerId.newIncarnation(name))
            .settings(settings)
            .listener(
                new SyncListener() {
                  @Override
                  public void passFinished(PassResult result) {
                    passes.add(result);
                  }
                })
            .build();
    workers.add(worker);
    return worker;
  }

  private long trackWithBackfill(FakeRepo repo) {
    long id = repositories.track(RepoName.of(repo.owner(), repo.name())).id();
    jdbi.useHandle(
        h ->
            h.execute(
                "update repository_sync_state set backfill_mode = 'open_only' where repository_id = ?",
                id));
    return id;
  }

  private boolean converged(long id, FakeRepo repo) {
    Map<String, Object> state = fx.state(id);
    return state.get("last_open_pr_scan_at") != null
        && state.get("open_pr_cursor_number") == null
        && Integer.valueOf(repo.openPulls().size()).equals(state.get("open_pr_current"))
        && Integer.valueOf(repo.openPulls().size()).equals(state.get("open_pr_total"));
  }

  private record Event(long id, Instant at, String resource, String lane, String kind, String owner, Long token) {}

  private List<Event> events() {
    return jdbi.withHandle(
        h ->
            h.createQuery(
                    "select id, at, resource, lane, kind, owner_id, token from lease_event_log order by id")
                .map(
                    (rs, ctx) ->
                        new Event(
                            rs.getLong("id"),
                            rs.getObject("at", java.time.OffsetDateTime.class).toInstant(),
                            rs.getString("resource"),
                            rs.getString("lane"),
                            rs.getString("kind"),
                            rs.getString("owner_id"),
                            (Long) rs.getObject("token")))
                .list());
  }

  /**
   * Asserts from the lease event log that no two holders ever held the same (resource, lane) at
   * once: per key, every claim is released by its holder (same token) before the next claim, in
   * the log's order and in database time.
   */
  private void assertNoOverlappingHolders(List<Event> events) {
    Map<String, Event> open = new HashMap<>();
    Map<String, Instant> lastRelease = new HashMap<>();
    int claims = 0;
    for (Event e : events) {
      String key = e.resource() + "/" + e.lane();
      switch (e.kind()) {
        case "claimed", "reclaimed" -> {
          assertThat(e.kind()).as("no lease was ever taken over: %s", e).isEqualTo("claimed");
          assertThat(open.get(key)).as("%s claimed while %s still held it", e, open.get(key)).isNull();
          Instant released = lastRelease.get(key);
          if (released != null) {
            assertThat(e.at()).as("claim after the previous release").isAfterOrEqualTo(released);
          }
          open.put(key, e);
          claims++;
        }
        case "released" -> {
          Event claim = open.remove(key);
          assertThat(claim).as("release without a claim: %s", e).isNotNull();
          assertThat(e.owner()).isEqualTo(claim.owner());
          assertThat(e.token()).isEqualTo(claim.token());
          assertThat(e.at()).isAfterOrEqualTo(claim.at());
          lastRelease.put(key, e.at());
        }
        case "lost" -> throw new AssertionError("a lease was lost: " + e);
        default -> {}
      }
    }
    assertThat(open).as("leases still held").isEmpty();
    assertThat(claims).isPositive();
  }

  @Test
  void twoWorkersNeverRunTheSameLaneOfARepositoryAtOnceAndTogetherConverge() {
    fx.fake.latency(Duration.ofMillis(2));
    List<FakeRepo> repos = new ArrayList<>();
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      FakeRepo repo = fx.fake.createRepo("acme", "repo-" + i);
      repo.openPrs(20, PrSpec.files(2));
      repos.add(repo);
      ids.add(trackWithBackfill(repo));
    }
    List<PassResult> passesA = new CopyOnWriteArrayList<>();
    List<PassResult> passesB = new CopyOnWriteArrayList<>();
    Worker a = worker("worker-a", FAST, passesA);
    Worker b = worker("worker-b", FAST, passesB);

    a.start();
    b.start();
    // Hints and fetch requests arrive while they work.
    FakeRepo first = repos.get(0);
    first.pr(3).push();
    fx.hint(ids.get(0), 3, "synchronize");
    await()
        .atMost(90, SECONDS)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              for (int i = 0; i < repos.size(); i++) {
                if (!converged(ids.get(i), repos.get(i))) {
                  return false;
                }
              }
              return fx.one("select count(*) from refresh_hint", Long.class) == 0;
            });
    assertThat(a.stop(Duration.ofSeconds(10))).isTrue();
    assertThat(b.stop(Duration.ofSeconds(10))).isTrue();

    assertNoOverlappingHolders(events());
    assertThat(passesA).as("worker a did work").isNotEmpty();
    assertThat(passesB).as("worker b did work").isNotEmpty();
    assertThat(passesA).allMatch(PassResult::succeeded);
    assertThat(passesB).allMatch(PassResult::succeeded);
    assertThat(fx.one("select count(*) from pr_snapshot", Long.class)).isEqualTo(80);
    assertThat(
            fx.one(
                "select count(*) from open_pr p join pr_snapshot s using (repository_id, number)"
                    + " where p.head_sha = s.head_sha and p.freshness = 'current'",
                Long.class))
        .isEqualTo(80);
  }

  @Test
  void aGracefulStopLetsRunningPassesFinishAndReleasesEveryLease() {
    fx.fake.latency(Duration.ofMillis(15));
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(40, PrSpec.files(1));
    long id = trackWithBackfill(repo);
    List<PassResult> passes = new CopyOnWriteArrayList<>();
    SyncSettings settings = FAST.toBuilder().backfillMaxPulls(10).build();
    Worker worker = worker("graceful", settings, passes);
    worker.start();
    await().atMost(30, SECONDS).until(() -> holds(worker, Lanes.BACKFILL));

    boolean clean = worker.stop(Duration.ofSeconds(30));

    assertThat(clean).isTrue();
    assertThat(passes).isNotEmpty().allMatch(PassResult::succeeded);
    assertThat(store.list()).noneMatch(l -> l.owner().equals(worker.owner()));
    assertThat(fx.state(id)).containsEntry("backfill_failure_count", 0);
    assertThat(markedStopped(worker)).isTrue();
    assertNoOverlappingHolders(events());
  }

  @Test
  void aStopWhosePassesOutliveTheGraceCancelsThemAndStillReleasesEveryLease() {
    fx.fake.latency(Duration.ofMillis(40));
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(60, PrSpec.files(1));
    long id = trackWithBackfill(repo);
    List<PassResult> passes = new CopyOnWriteArrayList<>();
    SyncSettings settings = FAST.toBuilder().backfillMaxPulls(1_000).build();
    Worker worker = worker("impatient", settings, passes);
    worker.start();
    await().atMost(30, SECONDS).until(() -> holds(worker, Lanes.BACKFILL));
    await().atMost(30, SECONDS).until(() -> (Integer) fx.state(id).get("open_pr_current") >= 2);

    boolean clean = worker.stop(Duration.ofMillis(100));

    assertThat(clean).isFalse();
    assertThat(store.list()).noneMatch(l -> l.owner().equals(worker.owner()));
    Map<String, Object> state = fx.state(id);
    assertThat(state)
        .as("a pass cut short by a stop is not a failure")
        .containsEntry("backfill_failure_count", 0)
        .containsEntry("backfill_retry_after", null);
    assertThat(state.get("open_pr_cursor_number")).as("progress is kept").isNotNull();
    assertThat((Integer) state.get("open_pr_current")).isBetween(2, 59);
    assertThat(markedStopped(worker)).isTrue();
    assertNoOverlappingHolders(events());
  }

  @Test
  void startRegistersRecoversAndRunsNamedThreads() {
    OwnerId earlier = OwnerId.newIncarnation("named");
    long id = trackWithBackfill(fx.fake.createRepo("acme", "widgets"));
    Lease left = store.claim(Lanes.key(id, Lanes.FETCH), earlier, LeasePolicy.defaults())
        .granted().orElseThrow();
    Worker worker =
        Worker.builder(store, fx.github)
            .owner(new OwnerId("named", "second"))
            .settings(FAST.toBuilder().workerThreads(3).build())
            .version("9.9.9")
            .build();
    workers.add(worker);

    RecoveryReport report = worker.start();

    assertThat(report.freed()).extracting(f -> f.lease().token()).containsExactly(left.token());
    assertThat(worker.isRunning()).isTrue();
    assertThatThrownBy(worker::start).isInstanceOf(IllegalStateException.class);
    List<WorkerRegistry.Worker> registered = new WorkerRegistry(jdbi).list(Duration.ofMinutes(1));
    assertThat(registered)
        .singleElement()
        .returns(worker.owner(), WorkerRegistry.Worker::owner)
        .returns("9.9.9", WorkerRegistry.Worker::version)
        .returns(ProcessHandle.current().pid(), WorkerRegistry.Worker::pid);
    assertThat(Thread.getAllStackTraces().keySet())
        .extracting(Thread::getName)
        .contains("changesync-worker-1", "changesync-worker-2", "changesync-worker-3");
    await().atMost(30, SECONDS).until(() -> fx.state(id).get("last_open_pr_scan_at") != null);
    // Heartbeat threads start with the first pass that schedules a heartbeat.
    assertThat(Thread.getAllStackTraces().keySet())
        .extracting(Thread::getName)
        .anyMatch(n -> n.startsWith("changesync-heartbeat-"));

    assertThat(worker.stop(Duration.ofSeconds(10))).isTrue();
    assertThat(worker.isRunning()).isFalse();
    assertThat(worker.runOnce()).as("a stopped worker claims nothing").isEmpty();
    assertThat(markedStopped(worker)).isTrue();
    await()
        .atMost(10, SECONDS)
        .until(
            () ->
                Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.getName().startsWith("changesync-worker-") && t.isAlive()));
  }

  private boolean holds(Worker worker, String lane) {
    return store.list().stream()
        .anyMatch(l -> l.owner().equals(worker.owner()) && l.key().lane().equals(lane));
  }

  private boolean markedStopped(Worker worker) {
    return fx.one(
        "select stopped_at is not null from worker where owner_id = '" + worker.owner() + "'",
        Boolean.class);
  }
}
