package dev.changesync.engine.lease;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.changesync.lease.Cancellation;
import dev.changesync.lease.Completion;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.LeaseRunner;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Two workers under load — each with its liveness session, pool, store and {@link LeaseRunner},
 * one thread claiming with {@code claimNext} and one with {@code claim}, over a handful of keys —
 * when the liveness connection of one of them is killed ({@code pg_terminate_backend}), as a
 * failover, a restarted pooler or an operator would.
 *
 * <p>The victim's process lives on, so its leases must not change hands over and over: it takes
 * its lock back at once, claims nothing while it has none, and a lease it has just claimed or
 * renewed is not taken from it within the grace.
 */
class LivenessLossTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final int KEYS = 8;
  private static final String LANE = "work";
  /** The default 15-minute TTL: stale-after is 30 s, so any reclaim here is liveness's doing. */
  private static final LeasePolicy POLICY = LeasePolicy.defaults();

  private static final Candidates ANY_KEY =
      Candidates.of(
          "select key as resource, random() as r from liveness_load_key", "c.r");

  private final List<LoadWorker> workers = new ArrayList<>();
  private Jdbi jdbi;

  @AfterEach
  void stopWorkers() {
    workers.forEach(LoadWorker::close);
  }

  @Test
  void aWorkerWhoseLivenessConnectionIsKilledTakesItsLockBackWithoutAReclaimStorm()
      throws Exception {
    db.truncateAllTables();
    jdbi = Jdbi.create(db.dataSource());
    jdbi.useHandle(
        h -> {
          h.execute("create table if not exists liveness_load_key (key text primary key)");
          h.execute("truncate liveness_load_key");
          for (int k = 0; k < KEYS; k++) {
            h.execute("insert into liveness_load_key values (?)", "load:" + k);
          }
        });
    LoadWorker victim = start("victim");
    LoadWorker survivor = start("survivor");
    survivor.store.register(
        IntStream.range(0, KEYS).mapToObj(k -> LeaseKey.of("load:" + k, LANE)).toList());
    await().atMost(30, SECONDS).until(() -> claims(victim) >= 20 && claims(survivor) >= 20);

    long killedPid = livenessPid(victim).orElseThrow();
    long eventsBefore = one("select coalesce(max(id), 0) from lease_event_log", Long.class);
    jdbi.useHandle(h -> h.execute("select pg_terminate_backend(?)", (int) killedPid));
    long killedAt = System.nanoTime();

    // The victim takes its lock back on a new connection, by itself and at once.
    await()
        .atMost(10, SECONDS)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> livenessPid(victim).filter(pid -> pid != killedPid).isPresent());
    Duration retakenWithin = Duration.ofNanos(System.nanoTime() - killedAt);
    long retakenAfter = one("select coalesce(max(id), 0) from lease_event_log", Long.class);
    // ... and goes on claiming, as the survivor does.
    await()
        .atMost(30, SECONDS)
        .until(
            () ->
                claimsSince(victim, retakenAfter) >= 20 && claimsSince(survivor, retakenAfter) >= 20);
    workers.forEach(LoadWorker::close);

    List<Map<String, Object>> reclaims =
        jdbi.withHandle(
            h ->
                h.createQuery(
                        """
                        select e.resource, e.lane, e.owner_id, e.previous_owner_id,
                               extract(epoch from e.at - p.at) * 1000 as previous_age_ms
                          from lease_event_log e
                          join lease_event_log p on p.resource = e.resource and p.lane = e.lane
                                            and p.token = e.previous_token
                                            and p.kind in ('claimed', 'reclaimed')
                         where e.kind = 'reclaimed' and e.id > :since
                         order by e.id
                        """)
                    .bind("since", eventsBefore)
                    .mapToMap()
                    .list());
    String context = reclaims.size() + " reclaims after the kill: " + reclaims;
    System.out.printf(
        "liveness loss: lock taken back within %d ms; %s%n", retakenWithin.toMillis(), context);
    assertThat(
            reclaims.stream()
                .collect(
                    java.util.stream.Collectors.groupingBy(
                        r -> r.get("resource") + "/" + r.get("lane"),
                        java.util.stream.Collectors.counting()))
                .values())
        .as("at most one reclaim per lease; " + context)
        .allMatch(n -> n <= 1);
    assertThat(reclaims)
        .as("only the victim's leases may have been taken; " + context)
        .allMatch(r -> victim.owner.toString().equals(r.get("previous_owner_id")));
    long graceMillis = PostgresLeaseStore.DEFAULT_OWNER_GONE_AFTER.toMillis();
    assertThat(reclaims)
        .as("no lease claimed within the grace was taken; " + context)
        .allMatch(r -> ((Number) r.get("previous_age_ms")).doubleValue() >= graceMillis);
  }

  private LoadWorker start(String name) {
    LoadWorker worker = new LoadWorker(OwnerId.newIncarnation(name));
    workers.add(worker);
    worker.start();
    return worker;
  }

  /** The backend holding {@code worker}'s liveness lock, if one does. */
  private Optional<Long> livenessPid(LoadWorker worker) {
    return jdbi.withHandle(
        h ->
            h.createQuery(
                    """
                    select l.pid from pg_locks l join pg_stat_activity a on a.pid = l.pid
                     where l.locktype = 'advisory' and l.granted and l.objsubid = 1
                       and ((l.classid::bigint << 32) | l.objid::bigint) = :key
                       and a.application_name = :app
                    """)
                .bind("key", LivenessSession.keyOf(worker.owner))
                .bind("app", worker.livenessApplicationName())
                .mapTo(Long.class)
                .findOne());
  }

  private long claims(LoadWorker worker) {
    return claimsSince(worker, 0);
  }

  private long claimsSince(LoadWorker worker, long eventId) {
    return jdbi.withHandle(
        h ->
            h.createQuery(
                    "select count(*) from lease_event_log where kind in ('claimed', 'reclaimed')"
                        + " and owner_id = :owner and id > :since")
                .bind("owner", worker.owner.toString())
                .bind("since", eventId)
                .mapTo(Long.class)
                .one());
  }

  private <T> T one(String sql, Class<T> type) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(type).one());
  }

  /**
   * A worker process in miniature: the liveness lock on an unpooled connection of its own (named,
   * so the test can find it), a pool for the rest, and two claiming threads running short passes
   * of two guarded writes each.
   */
  private static final class LoadWorker implements AutoCloseable {
    final OwnerId owner;
    final HikariDataSource pool;
    final LivenessSession liveness;
    final PostgresLeaseStore store;
    final ScheduledExecutorService heartbeats = Executors.newScheduledThreadPool(1);
    final LeaseRunner<Handle> runner;
    final List<Thread> threads = new ArrayList<>();
    volatile boolean stopping;

    LoadWorker(OwnerId owner) {
      this.owner = owner;
      PGSimpleDataSource unpooled = new PGSimpleDataSource();
      unpooled.setUrl(db.jdbcUrl());
      unpooled.setApplicationName(livenessApplicationName());
      this.liveness = LivenessSession.open(unpooled, owner);
      this.pool = db.newDataSource(4);
      this.store = PostgresLeaseStore.builder(pool).liveness(liveness).build();
      this.runner = LeaseRunner.builder(store, heartbeats).build();
    }

    String livenessApplicationName() {
      return "liveness-" + owner.workerName();
    }

    void start() {
      threads.add(new Thread(() -> loop(true), owner.workerName() + "-claim-next"));
      threads.add(new Thread(() -> loop(false), owner.workerName() + "-claim"));
      threads.forEach(Thread::start);
    }

    private void loop(boolean claimNext) {
      while (!stopping) {
        try {
          boolean worked;
          if (claimNext) {
            Optional<Lease> granted =
                store.claimNext(LANE, owner, POLICY, ANY_KEY).map(g -> g.lease());
            granted.ifPresent(lease -> runner.run(lease, this::pass));
            worked = granted.isPresent();
          } else {
            LeaseKey key = LeaseKey.of("load:" + ThreadLocalRandom.current().nextInt(KEYS), LANE);
            worked = runner.claimAndRun(key, owner, POLICY, this::pass).isPresent();
          }
          if (!worked) {
            Thread.sleep(5);
          }
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          // A claim or release that met the killed connection's fallout: poll again.
        }
      }
    }

    private Completion<Handle> pass(Lease lease, Cancellation cancellation) throws Exception {
      store.inLease(lease, h -> h.execute("select 1"));
      Thread.sleep(ThreadLocalRandom.current().nextLong(2, 15));
      cancellation.throwIfCancelled();
      store.inLease(lease, h -> h.execute("select 1"));
      return Completion.none();
    }

    @Override
    public void close() {
      stopping = true;
      for (Thread thread : threads) {
        try {
          thread.join(10_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      threads.clear();
      heartbeats.shutdownNow();
      liveness.close();
      pool.close();
    }
  }
}
