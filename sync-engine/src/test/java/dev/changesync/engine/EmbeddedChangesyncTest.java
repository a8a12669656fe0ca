package dev.changesync.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.db.EmbeddedDatabase;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.testkit.github.FakeGitHub;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * changesync with no database configured: the embedded PostgreSQL on the configured data
 * directory, migrated, durable, kept across restarts and stopped on close.
 */
class EmbeddedChangesyncTest {

  @TempDir Path dataDir;

  private FakeGitHub github;

  @BeforeEach
  void startGitHub() {
    // Tracking asks GitHub whether the repository exists; anonymous, as without credentials.
    github = FakeGitHub.builder().anonymousAccess().start();
    github.createRepo("octocat", "Hello-World");
  }

  @AfterEach
  void stopGitHub() {
    github.close();
  }

  @Test
  void aConfigWithoutADatabaseUrlRunsTheEmbeddedDatabaseOnItsDataDirectory() throws Exception {
    ChangesyncConfig config =
        ChangesyncConfig.from(
            Map.of(
                "CHANGESYNC_ROLE", "http",
                "CHANGESYNC_DATA_DIR", dataDir.toString(),
                "CHANGESYNC_GITHUB_API_URL", github.baseUrl(),
                "CHANGESYNC_GITHUB_ALLOW_INSECURE", "true"));
    assertThat(config.dataDir()).isEqualTo(dataDir.toAbsolutePath());

    String url;
    try (Changesync changesync = Changesync.fromConfig(config).build().start()) {
      EmbeddedDatabase embedded = changesync.embeddedDatabase().orElseThrow();
      url = embedded.jdbcUrl();
      assertThat(embedded.dataDir()).isEqualTo(dataDir.toAbsolutePath());
      assertThat(changesync.readiness().ready()).isTrue();
      try (Connection c = DriverManager.getConnection(url);
          Statement s = c.createStatement()) {
        assertThat(setting(s, "fsync")).isEqualTo("on");
        assertThat(setting(s, "synchronous_commit")).isEqualTo("on");
      }
      changesync
          .admin()
          .configureBackfill(RepoName.parse("octocat/Hello-World"), BackfillMode.OPEN_ONLY, 5);
    }
    assertThat(EmbeddedDatabase.runningServer(dataDir))
        .as("close() stops PostgreSQL")
        .isEmpty();

    try (Changesync again =
        Changesync.builder().embeddedDatabase(dataDir).runWorkers(false).build().start()) {
      assertThat(again.embeddedDatabase().orElseThrow().jdbcUrl()).isEqualTo(url);
      assertThat(again.status().repositoryStatus(RepoName.parse("octocat/hello-world")).backfillMode())
          .isEqualTo(BackfillMode.OPEN_ONLY);
    }
  }

  private static String setting(Statement s, String name) throws Exception {
    try (ResultSet rs = s.executeQuery("select current_setting('" + name + "')")) {
      rs.next();
      return rs.getString(1);
    }
  }
}
