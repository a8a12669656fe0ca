package dev.changesync.engine.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.engine.lease.ChildJvm;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded PostgreSQL on a real data directory, with real child processes that die. */
class EmbeddedDatabaseTest {

  @TempDir Path dataDir;

  @Test
  void durableSettingsAreOnAndDataSurvivesARestartOnTheSamePort() throws Exception {
    int port;
    try (EmbeddedDatabase db = EmbeddedDatabase.start(dataDir)) {
      port = db.port();
      assertThat(db.jdbcUrl())
          .isEqualTo("jdbc:postgresql://127.0.0.1:" + port + "/changesync?user=postgres");
      try (Connection c = DriverManager.getConnection(db.jdbcUrl());
          Statement s = c.createStatement()) {
        assertThat(setting(s, "fsync")).isEqualTo("on");
        assertThat(setting(s, "synchronous_commit")).isEqualTo("on");
        assertThat(setting(s, "full_page_writes")).isEqualTo("on");
        assertThat(setting(s, "listen_addresses")).isEqualTo("127.0.0.1");
        s.execute("create table kept (v text)");
        s.execute("insert into kept values ('still here')");
      }
    }
    assertThat(EmbeddedDatabase.leftoverPostmaster(dataDir.resolve("pgdata"))).isEmpty();

    try (EmbeddedDatabase db = EmbeddedDatabase.start(dataDir)) {
      assertThat(db.port()).isEqualTo(port);
      try (Connection c = DriverManager.getConnection(db.jdbcUrl());
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("select v from kept")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("still here");
      }
    }
  }

  @Test
  void aSecondInstanceOnTheSameDirectoryIsRefused() {
    try (EmbeddedDatabase db = EmbeddedDatabase.start(dataDir)) {
      assertThatThrownBy(() -> EmbeddedDatabase.start(dataDir))
          .isInstanceOf(DataDirectoryInUseException.class)
          .hasMessageContaining("is in use by another changesync process")
          .hasMessageContaining(db.jdbcUrl())
          .hasMessageContaining("CHANGESYNC_DATA_DIR");
      assertThat(canQuery(db.jdbcUrl())).isTrue();
    }
  }

  @Test
  void aSecondProcessIsRefusedAndAKilledProcessesPostgresIsStoppedByTheNextStart()
      throws Exception {
    ChildJvm first = ChildJvm.start(EmbeddedDatabaseProcess.class, dataDir.toString());
    try {
      String url = first.next(java.time.Duration.ofSeconds(90));
      assertThat(url).startsWith("URL ");

      ChildJvm second = ChildJvm.start(EmbeddedDatabaseProcess.class, dataDir.toString());
      try {
        assertThat(second.next(java.time.Duration.ofSeconds(60)))
            .startsWith("REFUSED ")
            .contains("is in use by another changesync process (pid " + first.pid());
      } finally {
        second.kill();
      }
      assertThat(canQuery(url.substring(4))).as("the first one's server still serves").isTrue();

      first.signal("KILL");
      Optional<ProcessHandle> leftover =
          EmbeddedDatabase.leftoverPostmaster(dataDir.resolve("pgdata"));
      assertThat(leftover).as("postgres outlives a killed JVM").isPresent();

      try (EmbeddedDatabase db = EmbeddedDatabase.start(dataDir)) {
        assertThat(leftover.get().isAlive()).isFalse();
        assertThat(canQuery(db.jdbcUrl())).isTrue();
      }
      assertThat(EmbeddedDatabase.leftoverPostmaster(dataDir.resolve("pgdata"))).isEmpty();
    } finally {
      first.kill();
    }
  }

  @Test
  void theDefaultDataDirectoryFollowsXdgThenHome() {
    assertThat(EmbeddedDatabase.defaultDataDir(Map.of("XDG_DATA_HOME", "/x", "HOME", "/h")))
        .isEqualTo(Path.of("/x/changesync"));
    assertThat(EmbeddedDatabase.defaultDataDir(Map.of("XDG_DATA_HOME", "relative", "HOME", "/h")))
        .isEqualTo(Path.of("/h/.local/share/changesync"));
    assertThat(EmbeddedDatabase.defaultDataDir(Map.of("HOME", "/h")))
        .isEqualTo(Path.of("/h/.local/share/changesync"));
  }

  private static String setting(Statement s, String name) throws SQLException {
    try (ResultSet rs = s.executeQuery("select current_setting('" + name + "')")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static boolean canQuery(String url) {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      return s.execute("select 1");
    } catch (SQLException e) {
      return false;
    }
  }
}
