package dev.changesync.engine.lease;

import static java.time.Duration.ofMinutes;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.util.ArrayList;
import java.util.List;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Every lease write is a HOT update: the row changes on its page and no index is touched. Its own
 * database, so that the table statistics count this class's updates and nothing else.
 */
class LeaseHotUpdateTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final LeasePolicy POLICY = LeasePolicy.ofTtl(ofMinutes(15));
  private static final OwnerId ALICE = new OwnerId("worker-a", "a1");
  private static final OwnerId BOB = new OwnerId("worker-b", "b1");

  @Test
  void claimsHeartbeatsReleasesAndReclaimsUpdateLeaseRowsInPlace() {
    // A connection per statement: a backend reports its table statistics when it exits.
    PGSimpleDataSource unpooled = new PGSimpleDataSource();
    unpooled.setURL(db.jdbcUrl());
    MutableClock clock = new MutableClock();
    PostgresLeaseStore store = PostgresLeaseStore.builder(unpooled).clock(clock).build();
    List<LeaseKey> keys = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      keys.add(LeaseKey.of("repo:" + i, "fetch"));
    }
    store.register(keys);

    int updates = 0;
    List<Lease> held = new ArrayList<>();
    for (LeaseKey key : keys) {
      held.add(((ClaimResult.Granted) store.claim(key, ALICE, POLICY)).lease());
      updates++;
    }
    for (int round = 0; round < 2; round++) {
      clock.advance(ofSeconds(10));
      for (Lease lease : held) {
        store.heartbeat(lease);
        updates++;
      }
    }
    for (Lease lease : held.subList(0, 20)) {
      store.release(lease);
      updates++;
    }
    clock.advance(POLICY.staleAfter());
    for (LeaseKey key : keys.subList(20, 40)) {
      assertThat(store.claim(key, BOB, POLICY)).isInstanceOf(ClaimResult.Granted.class);
      updates++;
    }
    store.releaseManually(keys.get(39), "ops");
    updates++;
    int expected = updates;

    Jdbi stats = Jdbi.create(db.dataSource());
    await()
        .atMost(ofSeconds(30))
        .until(() -> tableUpdates(stats)[0] >= expected);
    long[] counts = tableUpdates(stats);
    assertThat(counts[0]).isEqualTo(expected);
    assertThat(counts[1]).as("HOT updates of %d lease updates", counts[0]).isEqualTo(counts[0]);
  }

  /** Updates and HOT updates of the lease table. */
  private static long[] tableUpdates(Jdbi jdbi) {
    return jdbi.withHandle(
        h ->
            h.select(
                    "select n_tup_upd, n_tup_hot_upd from pg_stat_user_tables"
                        + " where relname = 'lease'")
                .map((rs, ctx) -> new long[] {rs.getLong(1), rs.getLong(2)})
                .one());
  }
}
