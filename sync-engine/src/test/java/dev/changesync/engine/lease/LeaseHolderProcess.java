package dev.changesync.engine.lease;

import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.HeartbeatResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeaseLostException;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A worker process for crash tests: claims one lease on database time, heartbeats it, and obeys
 * commands on stdin. Prints one line per event on stdout.
 *
 * <p>Arguments: {@code jdbcUrl resource lane ttl-millis liveness(on|off) worker-name}.
 *
 * <p>Commands: {@code write MARKER} — a guarded write inserting MARKER into {@code fence_probe};
 * prints {@code WROTE MARKER} or {@code LOST MARKER}. {@code exit} — exits.
 */
public final class LeaseHolderProcess {

  private LeaseHolderProcess() {}

  public static void main(String[] args) throws Exception {
    String url = args[0];
    LeaseKey key = LeaseKey.of(args[1], args[2]);
    LeasePolicy policy = LeasePolicy.ofTtl(Duration.ofMillis(Long.parseLong(args[3])));
    boolean liveness = args[4].equals("on");
    OwnerId owner = OwnerId.newIncarnation(args[5]);

    PGSimpleDataSource dataSource = new PGSimpleDataSource();
    dataSource.setUrl(url);
    LivenessSession session = liveness ? LivenessSession.open(dataSource, owner) : null;
    PostgresLeaseStore store =
        PostgresLeaseStore.builder(dataSource).liveness(session).build();

    ClaimResult result = store.claim(key, owner, policy);
    if (!(result instanceof ClaimResult.Granted granted)) {
      System.out.println("HELD");
      System.exit(3);
      return;
    }
    AtomicReference<Lease> lease = new AtomicReference<>(granted.lease());
    ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor();
    long every = policy.heartbeatEvery().toMillis();
    heartbeats.scheduleWithFixedDelay(
        () -> {
          try {
            if (store.heartbeat(lease.get()) instanceof HeartbeatResult.Renewed renewed) {
              lease.set(renewed.lease());
            } else {
              System.out.println("HEARTBEAT_LOST");
            }
          } catch (RuntimeException e) {
            System.out.println("HEARTBEAT_FAILED " + e.getMessage());
          }
        },
        every,
        every,
        TimeUnit.MILLISECONDS);
    System.out.println("GRANTED " + granted.lease().token() + " " + owner);
    System.out.flush();

    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.startsWith("write ")) {
        String marker = line.substring("write ".length());
        try {
          store.inLease(
              lease.get(),
              h ->
                  h.createUpdate("insert into fence_probe (marker) values (:marker)")
                      .bind("marker", marker)
                      .execute());
          System.out.println("WROTE " + marker);
        } catch (LeaseLostException e) {
          System.out.println("LOST " + marker);
        }
      } else if (line.equals("exit")) {
        break;
      }
      System.out.flush();
    }
    heartbeats.shutdownNow();
    if (session != null) {
      session.close();
    }
    System.exit(0);
  }
}
