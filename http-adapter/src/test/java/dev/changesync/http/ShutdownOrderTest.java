package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.sync.Worker;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A stopping server stops claiming before it drains HTTP, so no pass starts while the requests in
 * flight finish; and those requests do finish.
 */
class ShutdownOrderTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String TOKEN = "shutdown-order-admin-token";

  @Test
  void workersStopClaimingWhileARequestIsStillInFlight() throws Exception {
    LeaseKey key = LeaseKey.of("repo:7", "fetch");
    PostgresLeaseStore store = PostgresLeaseStore.builder(db.dataSource()).build();
    assertThat(store.claim(key, OwnerId.newIncarnation("elsewhere"), LeasePolicy.defaults()))
        .isInstanceOf(ClaimResult.Granted.class);

    try (FakeGitHub fake = FakeGitHub.start();
        Connection blocker = db.newDataSource(1).getConnection()) {
      Map<String, String> env = ReadRoutesTest.env(db, fake);
      env.put("CHANGESYNC_ADMIN_TOKEN", TOKEN);
      ChangesyncServer server = ChangesyncServer.start(ChangesyncConfig.from(env));
      Worker worker = server.changesync().worker().orElseThrow();
      assertThat(worker.isRunning()).isTrue();

      // A manual release that waits on the lease row the test holds: a request in flight.
      blocker.setAutoCommit(false);
      try (PreparedStatement lock =
          blocker.prepareStatement("select 1 from lease where resource = 'repo:7' for update")) {
        lock.executeQuery().close();
      }
      Http http = new Http(server.baseUri());
      CompletableFuture<Http.Response> release =
          CompletableFuture.supplyAsync(
              () ->
                  http.post(
                      "/v1/changes/leases/release",
                      "{\"resource\":\"repo:7\",\"lane\":\"fetch\"}",
                      Map.of(
                          "Authorization", "Bearer " + TOKEN,
                          "Content-Type", "application/json")));
      await().atMost(10, TimeUnit.SECONDS).until(ShutdownOrderTest::releaseIsWaiting);

      CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close);
      await().atMost(3, TimeUnit.SECONDS).until(() -> !worker.isRunning());
      assertThat(closing).isNotDone();
      assertThat(release).isNotDone();

      blocker.rollback();
      assertThat(release.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
      closing.get(30, TimeUnit.SECONDS);
    }
  }

  private static boolean releaseIsWaiting() throws Exception {
    // Not on the blocker: a transaction sees one snapshot of pg_stat_activity.
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "select count(*) from pg_stat_activity where datname = current_database()"
                    + " and wait_event_type = 'Lock'");
        ResultSet rs = s.executeQuery()) {
      rs.next();
      return rs.getLong(1) > 0;
    }
  }
}
