package dev.changesync.engine.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.lease.HeartbeatResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.LossReason;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Batched heartbeats on PostgreSQL: one statement on one connection, whatever the count. */
class PostgresHeartbeatAllTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final LeasePolicy POLICY = LeasePolicy.ofTtl(Duration.ofMinutes(15));
  private static final OwnerId ALICE = new OwnerId("worker-a", "a1");

  private final MutableClock clock = new MutableClock();
  private final AtomicInteger heartbeatConnections = new AtomicInteger();
  private PostgresLeaseStore store;

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    store =
        PostgresLeaseStore.builder(db.dataSource())
            .heartbeatDataSource(counting(db.dataSource(), heartbeatConnections))
            .clock(clock)
            .build();
  }

  @Test
  void renewsAThousandLeasesInOneStatementAndReportsEachLossOnItsOwn() {
    List<Lease> leases = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      leases.add(
          store.claim(LeaseKey.of("repo:" + i, "fetch"), ALICE, POLICY).granted().orElseThrow());
    }
    store.releaseManually(leases.get(10).key(), "operator");
    store.releaseManually(leases.get(999).key(), "operator");
    clock.advance(Duration.ofSeconds(5));

    List<HeartbeatResult> results = store.heartbeatAll(leases);

    assertThat(heartbeatConnections).hasValue(1);
    assertThat(results).hasSize(1_000);
    for (int i = 0; i < 1_000; i++) {
      if (i == 10 || i == 999) {
        assertThat(results.get(i))
            .isEqualTo(new HeartbeatResult.Lost(LossReason.FREED, Optional.empty()));
      } else {
        Lease renewed = ((HeartbeatResult.Renewed) results.get(i)).lease();
        assertThat(renewed.key()).isEqualTo(leases.get(i).key());
        assertThat(renewed.heartbeatAt()).isEqualTo(leases.get(i).claimedAt().plusSeconds(5));
      }
    }
    List<String> lost =
        Jdbi.create(db.dataSource())
            .withHandle(
                h ->
                    h.createQuery(
                            "select resource from lease_event where kind = 'lost' order by resource")
                        .mapTo(String.class)
                        .list());
    assertThat(lost).containsExactly("repo:10", "repo:999");
  }

  @Test
  void theSameKeyTwiceIsRefused() {
    Lease lease =
        store.claim(LeaseKey.of("repo:1", "fetch"), ALICE, POLICY).granted().orElseThrow();

    assertThatThrownBy(() -> store.heartbeatAll(List.of(lease, lease)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("more than once");
  }

  /** {@code dataSource}, counting the connections borrowed from it. */
  private static DataSource counting(DataSource dataSource, AtomicInteger borrowed) {
    return new DataSource() {
      @Override
      public Connection getConnection() throws SQLException {
        borrowed.incrementAndGet();
        return dataSource.getConnection();
      }

      @Override
      public Connection getConnection(String user, String password) throws SQLException {
        borrowed.incrementAndGet();
        return dataSource.getConnection(user, password);
      }

      @Override
      public PrintWriter getLogWriter() throws SQLException {
        return dataSource.getLogWriter();
      }

      @Override
      public void setLogWriter(PrintWriter out) throws SQLException {
        dataSource.setLogWriter(out);
      }

      @Override
      public void setLoginTimeout(int seconds) throws SQLException {
        dataSource.setLoginTimeout(seconds);
      }

      @Override
      public int getLoginTimeout() throws SQLException {
        return dataSource.getLoginTimeout();
      }

      @Override
      public Logger getParentLogger() {
        return Logger.getGlobal();
      }

      @Override
      public <T> T unwrap(Class<T> iface) throws SQLException {
        return dataSource.unwrap(iface);
      }

      @Override
      public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return dataSource.isWrapperFor(iface);
      }
    };
  }
}
