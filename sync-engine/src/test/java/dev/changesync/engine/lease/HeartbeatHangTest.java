package dev.changesync.engine.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.Completion;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.LeaseRunner;
import dev.changesync.lease.LossReason;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.RunOutcome;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Heartbeats that hang in the database must not hold back self-distrust: with every heartbeat of
 * a worker blocked on a row lock the test holds, the lease runner built on {@link LeaseThreads}
 * still cancels each pass once stale-after has passed without a successful heartbeat.
 */
class HeartbeatHangTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final LeasePolicy POLICY =
      LeasePolicy.of(Duration.ofSeconds(30), Duration.ofMillis(200), Duration.ofSeconds(1));
  private static final int PASSES = 4;

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void passesAreCancelledAtStaleAfterWhileEveryHeartbeatIsBlocked() throws Exception {
    db.truncateAllTables();
    // No statement timeout on this pool: heartbeats block for as long as the test holds the rows.
    PostgresLeaseStore store = PostgresLeaseStore.builder(db.newDataSource(PASSES + 2)).build();
    OwnerId owner = OwnerId.newIncarnation("hung-heartbeats");
    List<Lease> leases = new ArrayList<>();
    for (int i = 0; i < PASSES; i++) {
      ClaimResult result = store.claim(LeaseKey.of("repo:" + i, "fetch"), owner, POLICY);
      assertThat(result).isInstanceOf(ClaimResult.Granted.class);
      leases.add(((ClaimResult.Granted) result).lease());
    }

    ExecutorService passes = Executors.newFixedThreadPool(PASSES);
    try (LeaseThreads threads = LeaseThreads.create();
        Connection blocker = db.newDataSource(1).getConnection()) {
      LeaseRunner<?> runner = threads.runner(store);
      blocker.setAutoCommit(false);
      try (PreparedStatement lock =
          blocker.prepareStatement("select count(*) from (select 1 from lease where owner_id = ? for update) locked")) {
        lock.setString(1, owner.toString());
        try (ResultSet rs = lock.executeQuery()) {
          rs.next();
          assertThat(rs.getInt(1)).isEqualTo(PASSES);
        }
      }

      long started = System.nanoTime();
      List<AtomicLong> cancelledAfter = new ArrayList<>();
      List<Future<RunOutcome>> outcomes = new ArrayList<>();
      for (Lease lease : leases) {
        AtomicLong after = new AtomicLong(-1);
        cancelledAfter.add(after);
        outcomes.add(passes.submit(() -> runner.run(lease, (held, cancellation) -> {
          try {
            Thread.sleep(Duration.ofSeconds(45).toMillis());
          } catch (InterruptedException e) {
            after.set(System.nanoTime() - started);
          }
          return Completion.none();
        })));
      }

      // Each pass is told at stale-after; its heartbeats are all still stuck on the row locks.
      for (AtomicLong after : cancelledAfter) {
        await().atMost(30, TimeUnit.SECONDS).until(() -> after.get() >= 0);
        assertThat(Duration.ofNanos(after.get()))
            .isGreaterThanOrEqualTo(POLICY.staleAfter())
            .isLessThan(POLICY.staleAfter().multipliedBy(10));
      }
      assertThat(heartbeatsWaitingOnLocks()).isPositive();

      blocker.rollback(); // lets the hung heartbeats and the releases through
      for (Future<RunOutcome> outcome : outcomes) {
        assertThat(outcome.get(30, TimeUnit.SECONDS))
            .isInstanceOfSatisfying(
                RunOutcome.Lost.class,
                lost -> assertThat(lost.reason()).isEqualTo(LossReason.NO_HEARTBEAT));
      }
    } finally {
      passes.shutdownNow();
    }
  }

  private static long heartbeatsWaitingOnLocks() throws Exception {
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "select count(*) from pg_stat_activity where datname = current_database()"
                    + " and wait_event_type = 'Lock' and query like '%update lease l set"
                    + " heartbeat_at%'");
        ResultSet rs = s.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
