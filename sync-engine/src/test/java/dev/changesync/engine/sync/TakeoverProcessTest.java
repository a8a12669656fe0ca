package dev.changesync.engine.sync;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changesync.engine.lease.ChildJvm;
import dev.changesync.engine.lease.LeaseHolderProcess;
import dev.changesync.engine.lease.LivenessSession;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.WorkSignal;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.PrSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The takeover promise with shipped defaults (poll interval 5 s, liveness on, the store's default
 * grace): a worker process holding a repository's fetch lease is killed with SIGKILL while an idle
 * worker waits for work; the idle worker holds the lease well within a second, because it hears of
 * the dead peer's liveness lock and wakes once the grace has passed, instead of at its next poll.
 */
class TakeoverProcessTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final int KILLS = 20;

  private SyncFixture fx;
  private LivenessSession liveness;
  private Worker survivor;
  private final List<ChildJvm> children = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    fx = new SyncFixture(db);
  }

  @AfterEach
  void tearDown() throws Exception {
    children.forEach(ChildJvm::kill);
    if (survivor != null) {
      survivor.stop(Duration.ofSeconds(5));
    }
    if (liveness != null) {
      liveness.close();
    }
    fx.close();
  }

  /** The idle worker, with shipped defaults, with or without liveness. */
  private void startSurvivor(boolean withLiveness) {
    assertThat(SyncSettings.defaults().pollEvery()).isEqualTo(Duration.ofSeconds(5));
    liveness =
        withLiveness
            ? LivenessSession.open(db.dataSource(), OwnerId.newIncarnation("survivor"))
            : null;
    PostgresLeaseStore store =
        PostgresLeaseStore.builder(db.dataSource()).liveness(liveness).build();
    survivor =
        Worker.builder(store, fx.github)
            .liveness(liveness)
            .settings(SyncSettings.defaults())
            .build();
    survivor.start();
  }

  @Test
  void withoutLivenessTheIdleWorkerHoldsAKilledWorkersLeaseWithinASecondOfStaleAfter()
      throws Exception {
    startSurvivor(false);
    LeasePolicy policy = LeasePolicy.defaults();
    fx.fake.createRepo("acme", "widgets").openPrs(1, PrSpec.files(1));
    long id = trackNotDueYet("widgets");
    ChildJvm holder = holder(id, "off", "holder");
    makeDue(id);
    // Let a heartbeat or two pass, as a worker that had been holding the lease a while.
    await().atMost(30, SECONDS).until(() -> heartbeatedSinceClaim(id));

    holder.signal("KILL");
    long killedAt = System.nanoTime();
    await()
        .atMost(policy.staleAfter().plusSeconds(30))
        .pollInterval(Duration.ofMillis(5))
        .until(() -> heldBySurvivor(id));
    Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
    System.out.printf(
        "takeover after kill -9 without liveness: %d ms (stale-after %d ms)%n",
        takeover.toMillis(), policy.staleAfter().toMillis());
    assertThat(takeover).isLessThanOrEqualTo(policy.staleAfter().plusSeconds(1));
  }

  @Test
  void anIdleWorkerWithShippedDefaultsHoldsAKilledWorkersLeaseWithinASecond() throws Exception {
    startSurvivor(true);
    List<Duration> takeovers = new ArrayList<>();
    for (int i = 0; i < KILLS; i++) {
      fx.fake.createRepo("acme", "widgets-" + i).openPrs(1, PrSpec.files(1));
      long id = trackNotDueYet("widgets-" + i);
      ChildJvm holder = holder(id, "on", "holder-" + i);
      makeDue(id); // the survivor wakes, finds the lease held and goes back to waiting

      holder.signal("KILL");
      long killedAt = System.nanoTime();
      await()
          .atMost(30, SECONDS)
          .pollInterval(Duration.ofMillis(5))
          .until(() -> heldBySurvivor(id));
      takeovers.add(Duration.ofNanos(System.nanoTime() - killedAt));
      await()
          .atMost(30, SECONDS)
          .pollInterval(Duration.ofMillis(20))
          .until(() -> fx.state(id).get("last_open_pr_scan_at") != null);
    }

    List<Duration> sorted = takeovers.stream().sorted().toList();
    Duration p99 = sorted.get((int) Math.ceil(0.99 * sorted.size()) - 1);
    System.out.printf(
        "takeover after kill -9 with shipped defaults: %s (p99 %d ms)%n",
        takeovers.stream().map(d -> d.toMillis() + " ms").toList(),
        p99.toMillis());
    assertThat(p99).isLessThan(Duration.ofSeconds(1));
  }

  /** A {@link LeaseHolderProcess} holding the fetch lease of repository {@code id}. */
  private ChildJvm holder(long id, String liveness, String name) throws Exception {
    ChildJvm holder =
        ChildJvm.start(
            LeaseHolderProcess.class,
            db.jdbcUrl(),
            Lanes.resource(id),
            Lanes.FETCH,
            Long.toString(LeasePolicy.DEFAULT_LEASE_FOR.toMillis()),
            liveness,
            name);
    children.add(holder);
    assertThat(holder.next(Duration.ofSeconds(60))).startsWith("GRANTED ");
    return holder;
  }

  private boolean heartbeatedSinceClaim(long id) {
    return fx.store
        .find(Lanes.key(id, Lanes.FETCH))
        .filter(l -> l.heartbeatAt().isAfter(l.claimedAt()))
        .isPresent();
  }

  /** Tracks acme/NAME with its fetch lane backed off, so that nobody picks it yet. */
  private long trackNotDueYet(String name) {
    return fx.jdbi.withHandle(
        h ->
            h.createQuery(
                    """
                    with r as (insert into repository (owner, name) values ('acme', :name)
                               returning id)
                    insert into repository_sync_state (repository_id, backfill_mode,
                                                       fetch_retry_after)
                    select id, 'open_only', now() + interval '1 day' from r
                    returning repository_id
                    """)
                .bind("name", name)
                .mapTo(Long.class)
                .one());
  }

  /** Lifts the backoff and tells the workers, as a fetch request does. */
  private void makeDue(long id) {
    fx.jdbi.useTransaction(
        h -> {
          h.createUpdate(
                  "update repository_sync_state set fetch_retry_after = null"
                      + " where repository_id = :id")
              .bind("id", id)
              .execute();
          WorkSignal.send(h, Lanes.FETCH);
        });
  }

  private boolean heldBySurvivor(long id) {
    Optional<Lease> lease = fx.store.find(Lanes.key(id, Lanes.FETCH));
    return lease.filter(l -> l.owner().equals(survivor.owner())).isPresent();
  }
}
