package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An exhausted service pool over real HTTP: with {@code CHANGESYNC_DATABASE_POOL_SIZE=2} and both
 * its connections stuck behind a table lock, the next status request is a 503 with {@code
 * Retry-After} within {@link ChangesyncServer#SERVICE_POOL_WAIT}, and the server answers again once
 * the lock is gone.
 */
class ServicePoolTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static ChangesyncServer server;
  private static Http http;

  @BeforeAll
  static void start() {
    Map<String, String> env = ReadRoutesTest.env(db, null);
    env.put("CHANGESYNC_ROLE", "http");
    env.put("CHANGESYNC_DATABASE_POOL_SIZE", "2");
    server = ChangesyncServer.start(ChangesyncConfig.from(env));
    http = new Http(server.baseUri());
    server
        .changesync()
        .admin()
        .configureBackfill(RepoName.of("acme", "widgets"), BackfillMode.OPEN_ONLY, 0);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void anExhaustedPoolAnswers503WithRetryAfterWithinTheBoundAndRecovers() throws Exception {
    String status = "/v1/changes/repos/acme/widgets/status";
    assertThat(http.get(status).status()).isEqualTo(200);
    CompletableFuture<Http.Response> stuck;
    CompletableFuture<Http.Response> stuckToo;
    try (Connection locker = db.newDataSource(1).getConnection()) {
      locker.setAutoCommit(false);
      try (Statement s = locker.createStatement()) {
        s.execute("lock table repository in access exclusive mode");
      }
      // Each takes one of the pool's two connections and waits on the lock with it.
      stuck = CompletableFuture.supplyAsync(() -> http.get(status));
      stuckToo = CompletableFuture.supplyAsync(() -> http.get(status));
      Thread.sleep(500);
      assertThat(stuck).isNotDone();
      assertThat(stuckToo).isNotDone();

      long started = System.nanoTime();
      Http.Response refused = http.get(status);
      Duration took = Duration.ofNanos(System.nanoTime() - started);

      assertThat(refused.status()).as(refused.body()).isEqualTo(503);
      assertThat(refused.header("Retry-After")).isEqualTo("1");
      assertThat(refused.json().fieldNames()).toIterable().containsExactly("message");
      assertThat(refused.message()).contains("busy");
      assertThat(took)
          .isGreaterThanOrEqualTo(ChangesyncServer.SERVICE_POOL_WAIT.minusMillis(100))
          .isLessThan(ChangesyncServer.SERVICE_POOL_WAIT.plusSeconds(2));
      locker.rollback();
    }
    assertThat(stuck.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
    assertThat(stuckToo.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
    assertThat(http.get(status).status()).as("recovered").isEqualTo(200);
  }
}
