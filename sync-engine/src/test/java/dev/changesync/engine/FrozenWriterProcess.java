package dev.changesync.engine;

import dev.changesync.engine.lease.LivenessSession;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.sync.SyncSettings;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.HeartbeatResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.OwnerId;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A worker process on changesync's own pools with shipped defaults: claims one lease, heartbeats
 * it, and on {@code write} opens a guarded write, prints {@code IN_WRITE} and stays inside it —
 * where the test freezes it with SIGSTOP.
 *
 * <p>Arguments: {@code jdbcUrl resource lane worker-name}. Prints {@code GRANTED <token>}.
 */
public final class FrozenWriterProcess {

  private FrozenWriterProcess() {}

  public static void main(String[] args) throws Exception {
    SyncSettings settings = SyncSettings.defaults();
    OwnedPools pools = OwnedPools.open(args[0], null, null, settings);
    OwnerId owner = OwnerId.newIncarnation(args[3]);
    LivenessSession liveness = LivenessSession.open(pools.liveness(), owner);
    PostgresLeaseStore store =
        PostgresLeaseStore.builder(pools.workers())
            .heartbeatDataSource(pools.heartbeats().orElseThrow())
            .liveness(liveness)
            .build();
    ClaimResult claimed =
        store.claim(LeaseKey.of(args[1], args[2]), owner, settings.leasePolicy());
    if (!(claimed instanceof ClaimResult.Granted granted)) {
      System.out.println("HELD");
      System.exit(3);
      return;
    }
    AtomicReference<Lease> lease = new AtomicReference<>(granted.lease());
    ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor();
    long every = settings.leasePolicy().heartbeatEvery().toMillis();
    heartbeats.scheduleWithFixedDelay(
        () -> {
          if (store.heartbeat(lease.get()) instanceof HeartbeatResult.Renewed renewed) {
            lease.set(renewed.lease());
          }
        },
        every,
        every,
        TimeUnit.MILLISECONDS);
    System.out.println("GRANTED " + granted.lease().token());
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.equals("write")) {
        store.inLease(
            lease.get(),
            h -> {
              h.execute("select 1");
              System.out.println("IN_WRITE " + h.createQuery("select pg_backend_pid()")
                  .mapTo(Integer.class).one());
              System.out.flush();
              Thread.sleep(TimeUnit.MINUTES.toMillis(10));
              return null;
            });
      }
    }
    System.exit(0);
  }
}
