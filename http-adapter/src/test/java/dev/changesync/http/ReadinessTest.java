package dev.changesync.http;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /readyz} and the API when the database goes away and comes back, on a throw-away
 * database of this class: it is closed to connections (and its sessions ended), then opened again,
 * while the server keeps running.
 */
class ReadinessTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  @RegisterExtension static final PostgresDatabase unmigrated = PostgresDatabase.empty();

  private ChangesyncServer server;
  private Http http;

  @BeforeEach
  void start() throws Exception {
    db.truncateAllTables();
    Map<String, String> env = ReadRoutesTest.env(db, null);
    env.put("CHANGESYNC_ROLE", "http");
    server = ChangesyncServer.start(ChangesyncConfig.from(env));
    http = new Http(server.baseUri());
    server
        .changesync()
        .admin()
        .configureBackfill(RepoName.of("acme", "widgets"), BackfillMode.OPEN_ONLY, 0);
  }

  @AfterEach
  void stop() throws SQLException {
    try {
      admin("alter database " + db.databaseName() + " allow_connections true");
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  /** Runs {@code sql} on the server's maintenance database, outside the test database. */
  private static void admin(String sql) throws SQLException {
    String maintenance = db.jdbcUrl().replace("/" + db.databaseName(), "/postgres");
    try (Connection c = DriverManager.getConnection(maintenance);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static void closeTheDatabase() throws SQLException {
    admin("alter database " + db.databaseName() + " allow_connections false");
    admin(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = '"
            + db.databaseName()
            + "' and pid <> pg_backend_pid()");
  }

  @Test
  void readyzTurns503WhileTheDatabaseIsAwayAndBackTo200WithoutARestart() throws Exception {
    assertThat(http.get("/readyz").status()).isEqualTo(200);

    closeTheDatabase();

    Http.Response away = http.get("/readyz");
    assertThat(away.status()).isEqualTo(503);
    assertThat(away.message()).isEqualTo("database unreachable");
    assertThat(away.json().get("database_reachable").asBoolean()).isFalse();
    Http.Response status = http.get("/v1/changes/repos/acme/widgets/status");
    assertThat(status.status()).isEqualTo(503);
    assertThat(status.message()).isEqualTo("database unavailable");
    assertThat(away.body() + status.body()).doesNotContain("5432").doesNotContain("127.0.0.1");
    assertThat(http.get("/healthz").status()).as("the process itself is fine").isEqualTo(200);

    admin("alter database " + db.databaseName() + " allow_connections true");

    await()
        .atMost(30, SECONDS)
        .pollInterval(200, MILLISECONDS)
        .until(() -> http.get("/readyz").status() == 200);
    assertThat(http.get("/v1/changes/repos/acme/widgets/status").status()).isEqualTo(200);
  }

  @Test
  void readyzIs503WhileTheSchemaIsBehindAndTurns200OnceMigrated() {
    Map<String, String> env = ReadRoutesTest.env(unmigrated, null);
    env.put("CHANGESYNC_ROLE", "http");
    env.put("CHANGESYNC_MIGRATE", "off");
    try (ChangesyncServer behind = ChangesyncServer.start(ChangesyncConfig.from(env))) {
      Http behindHttp = new Http(behind.baseUri());

      Http.Response r = behindHttp.get("/readyz");
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.json().get("database_reachable").asBoolean()).isTrue();
      assertThat(r.json().get("schema_current").asBoolean()).isFalse();
      assertThat(r.message()).isNotBlank();

      Migrations.migrate(unmigrated.dataSource());

      await()
          .atMost(30, SECONDS)
          .pollInterval(200, MILLISECONDS)
          .until(() -> behindHttp.get("/readyz").status() == 200);
    }
  }

  @Test
  void anUnexpectedFailureIs500WithoutItsDetails() throws Exception {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("alter table repository_sync_state rename to repository_sync_state_away");
    }
    try {
      Http.Response r = http.get("/v1/changes/repos/acme/widgets/status");

      assertThat(r.status()).isEqualTo(500);
      assertThat(r.json().fieldNames()).toIterable().containsExactly("message");
      assertThat(r.message()).isEqualTo("internal server error");
      assertThat(r.body()).doesNotContain("repository_sync_state").doesNotContain("select");
    } finally {
      try (Connection c = db.dataSource().getConnection();
          Statement s = c.createStatement()) {
        s.execute("alter table repository_sync_state_away rename to repository_sync_state");
      }
    }
  }
}
