package dev.changesync.engine.lease;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.changesync.lease.Cancellation;
import dev.changesync.lease.Completion;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.LeaseRunner;
import dev.changesync.lease.LeaseWork;
import dev.changesync.lease.OwnerId;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import org.jdbi.v3.core.Handle;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A worker process for {@link LeaseChaosTest}: runs passes over random keys for ever, each under a
 * lease, through the production machinery (liveness session, recovery, {@link LeaseRunner}
 * heartbeats, guarded writes, release with completion).
 *
 * <p>A pass writes {@code begin} to {@code chaos_log} in one guarded write, works for a while (the
 * window in which the test pauses or kills it), writes {@code end} in a second guarded write, and
 * counts the round in {@code chaos_key} as its release's completion. Prints {@code READY} once it
 * has recovered and starts working.
 *
 * <p>Arguments: {@code jdbcUrl worker-name keys ttl-millis}.
 */
public final class ChaosWorkerProcess {

  private final PostgresLeaseStore store;

  private ChaosWorkerProcess(PostgresLeaseStore store) {
    this.store = store;
  }

  public static void main(String[] args) throws Exception {
    String url = args[0];
    OwnerId owner = OwnerId.newIncarnation(args[1]);
    int keys = Integer.parseInt(args[2]);
    LeasePolicy policy = LeasePolicy.ofTtl(Duration.ofMillis(Long.parseLong(args[3])));

    // As in a changesync process: the liveness lock on a connection of its own, the rest pooled.
    PGSimpleDataSource unpooled = new PGSimpleDataSource();
    unpooled.setUrl(url);
    LivenessSession session = LivenessSession.open(unpooled, owner);
    HikariConfig poolConfig = new HikariConfig();
    poolConfig.setJdbcUrl(url);
    poolConfig.setMaximumPoolSize(3);
    PostgresLeaseStore store =
        PostgresLeaseStore.builder(new HikariDataSource(poolConfig)).liveness(session).build();
    ScheduledExecutorService heartbeats = Executors.newScheduledThreadPool(1);
    LeaseRunner<Handle> runner = LeaseRunner.builder(store, heartbeats).build();

    store.recover(owner);
    System.out.println("READY " + owner);
    System.out.flush();

    LeaseWork<Handle> pass = new ChaosWorkerProcess(store)::pass;
    while (true) {
      int k = ThreadLocalRandom.current().nextInt(keys);
      runner.claimAndRun(LeaseKey.of("chaos:" + k, "work"), owner, policy, pass);
    }
  }

  private Completion<Handle> pass(Lease lease, Cancellation cancellation) throws Exception {
    log(lease, "begin");
    Thread.sleep(ThreadLocalRandom.current().nextLong(5, 60));
    cancellation.throwIfCancelled();
    log(lease, "end");
    return h ->
        h.createUpdate(
                "insert into chaos_key (key, rounds) values (:key, 1)"
                    + " on conflict (key) do update set rounds = chaos_key.rounds + 1")
            .bind("key", lease.key().resource())
            .execute();
  }

  private void log(Lease lease, String step) {
    store.inLease(
        lease,
        h ->
            h.createUpdate(
                    "insert into chaos_log (key, token, owner, step)"
                        + " values (:key, :token, :owner, :step)")
                .bind("key", lease.key().resource())
                .bind("token", lease.token())
                .bind("owner", lease.owner().toString())
                .bind("step", step)
                .execute());
  }
}
