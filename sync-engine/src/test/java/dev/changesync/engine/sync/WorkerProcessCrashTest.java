package dev.changesync.engine.sync;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changesync.engine.lease.ChildJvm;
import dev.changesync.engine.lease.LivenessSession;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.lease.Lease;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakePr;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import dev.changesync.testkit.github.RecordedRequest;
import dev.changesync.testkit.github.RequestKind;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A worker process ({@link WorkerProcess}, a child JVM) is killed with SIGKILL in the middle of a
 * backfill; a worker in this JVM takes the lease over at once (the dead process's liveness lock is
 * gone) and resumes the walk from the cursor.
 */
class WorkerProcessCrashTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final int PULLS = 40;

  private SyncFixture fx;
  private ChildJvm child;
  private LivenessSession survivorLiveness;

  @BeforeEach
  void setUp() throws Exception {
    fx = new SyncFixture(db);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (child != null) {
      child.kill();
    }
    fx.close();
    if (survivorLiveness != null) {
      survivorLiveness.close();
    }
  }

  @Test
  void anotherWorkerResumesAKilledWorkersBackfillFromTheCursor() throws Exception {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(PULLS, PrSpec.files(3));
    fx.fake.latency(Duration.ofMillis(25)); // slow enough to kill it mid-walk
    long id = fx.trackWithBackfill(repo, 0);

    child =
        ChildJvm.start(
            WorkerProcess.class, db.jdbcUrl(), fx.fake.baseUrl(), "crash-test-worker", "1000");
    String started = child.next(Duration.ofSeconds(60));
    assertThat(started).as("the child worker started").startsWith("STARTED ");
    OwnerId childOwner = OwnerId.parse(started.substring("STARTED ".length()));
    await()
        .atMost(60, SECONDS)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> (Integer) fx.state(id).get("open_pr_current") >= 8);
    Lease held = fx.store.find(Lanes.key(id, Lanes.BACKFILL)).orElseThrow();
    assertThat(held.owner()).isEqualTo(childOwner);

    child.signal("KILL");
    // What the dead worker finished: committed snapshots and the cursor it left.
    Set<Integer> finished = currentPulls(id);
    Map<String, Object> left = fx.state(id);
    Integer cursor = (Integer) left.get("open_pr_cursor_number");
    assertThat(cursor).as("the walk was under way").isNotNull();
    assertThat(finished).contains(cursor);
    int requestsBefore = fx.fake.requestLog().size();

    fx.fake.latency(Duration.ZERO);
    survivorLiveness = LivenessSession.open(db.dataSource(), OwnerId.newIncarnation("survivor"));
    PostgresLeaseStore survivorStore =
        PostgresLeaseStore.builder(db.dataSource()).liveness(survivorLiveness).build();
    Worker survivor =
        Worker.builder(survivorStore, fx.github)
            .liveness(survivorLiveness)
            .settings(SyncFixture.SETTINGS.toBuilder().backfillMaxPulls(1_000).build())
            .build();
    // Database time and a 15-minute TTL: only the liveness check frees the dead worker's lease,
    // once the dead worker has been silent for the liveness grace.
    PassResult resumed =
        await()
            .atMost(10, SECONDS)
            .pollInterval(Duration.ofMillis(50))
            .until(survivor::runOnce, Optional::isPresent)
            .orElseThrow();

    assertThat(resumed.kind()).isEqualTo(WorkKind.BACKFILL);
    assertThat(resumed.succeeded()).isTrue();
    assertThat(resumed.detail()).contains("complete");
    assertThat(
            fx.one(
                "select kind from lease_event_log where resource = '"
                    + Lanes.resource(id)
                    + "' and lane = 'backfill' order by id desc offset 1 limit 1",
                String.class))
        .as("taken over from the dead owner")
        .isEqualTo("reclaimed");
    List<RecordedRequest> after = fx.fake.requestLog().subList(requestsBefore, fx.fake.requestLog().size());
    List<Integer> resumedPulls =
        after.stream()
            .filter(r -> r.kind() == RequestKind.PULL)
            .map(r -> Integer.parseInt(r.path().substring(r.path().lastIndexOf('/') + 1)))
            .toList();
    assertThat(resumedPulls).as("no finished PR was fetched again").doesNotContainAnyElementsOf(finished);
    assertThat(resumedPulls).as("the walk resumed right after the cursor").first().isEqualTo(cursor - 1);
    // Every PR fetched once, except at most the one the dead worker was working on.
    Map<Integer, Integer> perPull = fx.requestsPerPull(RequestKind.PULL);
    assertThat(perPull).hasSize(PULLS);
    assertThat(perPull.values().stream().filter(n -> n > 1).count()).isLessThanOrEqualTo(1);
    assertThat(perPull.values()).allMatch(n -> n <= 2);
    // No duplicate or missing rows: exactly the fake's files and hunks.
    for (FakePr pr : repo.openPulls()) {
      assertThat(fx.fileCounts(id).get(pr.number())).isEqualTo(pr.files().size());
      assertThat(fx.hunkCounts(id).getOrDefault(pr.number(), 0)).isEqualTo(pr.hunkCount());
    }
    assertThat(fx.state(id))
        .containsEntry("open_pr_current", PULLS)
        .containsEntry("open_pr_total", PULLS)
        .containsEntry("open_pr_cursor_number", null);
    assertThat(fx.one("select count(*) from pr_snapshot", Long.class)).isEqualTo(PULLS);
    survivor.stop(Duration.ofSeconds(5));
  }

  private Set<Integer> currentPulls(long id) {
    List<Integer> numbers =
        fx.jdbi.withHandle(
            h ->
                h.createQuery(
                        "select number from open_pr where repository_id = :id"
                            + " and freshness = 'current'")
                    .bind("id", id)
                    .mapTo(Integer.class)
                    .list());
    return new TreeSet<>(numbers);
  }
}
