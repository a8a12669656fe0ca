package dev.changesync.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.sync.SyncSettings;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.HeartbeatResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The pools changesync owns: which exist per role, and the heartbeat pool's timeouts. */
class OwnedPoolsTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final LeasePolicy POLICY =
      LeasePolicy.of(Duration.ofSeconds(30), Duration.ofMillis(500), Duration.ofSeconds(4));
  private static final SyncSettings SETTINGS =
      SyncSettings.builder().workerThreads(3).leasePolicy(POLICY).build();

  @Test
  void timeoutsFollowStaleAfter() {
    assertThat(OwnedPools.heartbeatStatementTimeout(POLICY)).isEqualTo(Duration.ofSeconds(2));
    assertThat(OwnedPools.heartbeatSocketTimeoutSeconds(POLICY)).isEqualTo(3);
    LeasePolicy shortest =
        LeasePolicy.of(Duration.ofSeconds(10), Duration.ofMillis(200), Duration.ofSeconds(1));
    assertThat(OwnedPools.heartbeatStatementTimeout(shortest)).isEqualTo(Duration.ofMillis(500));
    assertThat(OwnedPools.heartbeatSocketTimeoutSeconds(shortest)).isEqualTo(1);
    LeasePolicy defaults = LeasePolicy.defaults();
    assertThat(OwnedPools.heartbeatSocketTimeoutSeconds(defaults))
        .isLessThan((int) defaults.staleAfter().toSeconds());
  }

  @Test
  void onlyHeartbeatConnectionsHaveAStatementTimeout() throws Exception {
    try (OwnedPools pools = OwnedPools.open(db.jdbcUrl(), null, null, SETTINGS)) {
      assertThat(pools.workers()).isNotSameAs(pools.services());
      assertThat(setting(pools.services(), "statement_timeout")).isEqualTo("0");
      assertThat(setting(pools.workers(), "statement_timeout")).isEqualTo("0");
      DataSource heartbeats = pools.heartbeats().orElseThrow();
      assertThat(setting(heartbeats, "statement_timeout")).isEqualTo("2s");
    }
  }

  @Test
  void workerConnectionsCarryTheGuardsAndDoNotJitCompile() throws Exception {
    try (OwnedPools pools = OwnedPools.open(db.jdbcUrl(), null, null, SETTINGS)) {
      assertThat(setting(pools.workers(), "jit")).isEqualTo("off");
      assertThat(setting(pools.workers(), "lock_timeout")).isEqualTo("2s");
      assertThat(setting(pools.workers(), "idle_in_transaction_session_timeout")).isEqualTo("2s");
    }
  }

  @Test
  void aProcessWithoutWorkersHasOnlyTheServicePool() {
    try (OwnedPools pools = OwnedPools.open(db.jdbcUrl(), null, null, null)) {
      assertThat(pools.heartbeats()).isEmpty();
      assertThat(pools.workers()).isSameAs(pools.services());
    }
  }

  @Test
  void theServicePoolHasTheGivenSize() {
    try (OwnedPools pools =
        OwnedPools.open(db.jdbcUrl(), null, null, null, 7, OwnedPools.CONNECTION_TIMEOUT)) {
      assertThat(((HikariDataSource) pools.services()).getMaximumPoolSize()).isEqualTo(7);
    }
    try (OwnedPools pools = OwnedPools.open(db.jdbcUrl(), null, null, SETTINGS)) {
      assertThat(((HikariDataSource) pools.services()).getMaximumPoolSize())
          .isEqualTo(OwnedPools.SERVICE_CONNECTIONS);
    }
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void aHeartbeatBlockedOnItsLeaseRowGivesUpAtTheStatementTimeout() throws Exception {
    db.truncateAllTables();
    try (OwnedPools pools = OwnedPools.open(db.jdbcUrl(), null, null, SETTINGS);
        Connection blocker = db.newDataSource(1).getConnection()) {
      PostgresLeaseStore store =
          PostgresLeaseStore.builder(pools.workers())
              .heartbeatDataSource(pools.heartbeats().orElseThrow())
              .build();
      OwnerId owner = OwnerId.newIncarnation("pool-test");
      Lease lease =
          ((ClaimResult.Granted) store.claim(LeaseKey.of("repo:1", "fetch"), owner, POLICY))
              .lease();
      blocker.setAutoCommit(false);
      try (PreparedStatement lock =
          blocker.prepareStatement("select 1 from lease where resource = 'repo:1' for update")) {
        lock.executeQuery().close();
      }

      long started = System.nanoTime();
      assertThatThrownBy(() -> store.heartbeat(lease))
          .hasRootCauseInstanceOf(SQLException.class)
          .rootCause()
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .isLessThan(POLICY.staleAfter());

      blocker.rollback();
      // The pool is fine afterwards: the next heartbeat renews.
      assertThat(store.heartbeat(lease)).isInstanceOf(HeartbeatResult.Renewed.class);
    }
  }

  private static String setting(DataSource dataSource, String name) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s = c.prepareStatement("select current_setting(?)")) {
      s.setString(1, name);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }
}
