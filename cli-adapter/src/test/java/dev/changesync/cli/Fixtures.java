package dev.changesync.cli;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.awaitility.Awaitility.await;

import dev.changesync.engine.Changesync;
import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.engine.sync.SyncSettings;
import dev.changesync.http.ChangesyncServer;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** Engines, servers and settings the CLI's tests run against. */
final class Fixtures {

  static final String ADMIN_TOKEN = "cli-test-admin-token";

  /** Quick polling, no debounce, backfill passes one after another. */
  static final SyncSettings FAST =
      SyncSettings.builder()
          .pollEvery(Duration.ofMillis(20))
          .webhookDebounce(Duration.ZERO)
          .minFetchInterval(Duration.ZERO)
          .backfillInterval(Duration.ZERO)
          .shutdownGrace(Duration.ofSeconds(20))
          .build();

  private Fixtures() {}

  /** An embedded engine with workers on {@code db}, syncing from {@code fake}; started. */
  static Changesync workers(PostgresDatabase db, FakeGitHub fake, String workerName) {
    return Changesync.builder()
        .jdbcUrl(db.jdbcUrl(), db.user(), db.password().orElse(null))
        .github(
            GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                .baseUrl(fake.baseUri())
                .build())
        .syncSettings(FAST)
        .workerName(workerName)
        .build()
        .start();
  }

  /**
   * The server's environment on {@code db}: port 0, the admin token, no migrations (the test
   * database is migrated); with {@code fake}, workers syncing from it quickly, else the HTTP role.
   */
  static Map<String, String> serverEnv(PostgresDatabase db, FakeGitHub fake) {
    Map<String, String> env = new HashMap<>();
    env.put("CHANGESYNC_DATABASE_URL", db.jdbcUrl());
    env.put("CHANGESYNC_DATABASE_USER", db.user());
    db.password().ifPresent(p -> env.put("CHANGESYNC_DATABASE_PASSWORD", p));
    env.put("CHANGESYNC_HTTP_PORT", "0");
    env.put("CHANGESYNC_ADMIN_TOKEN", ADMIN_TOKEN);
    env.put("CHANGESYNC_MIGRATE", "off");
    env.put("CHANGESYNC_SHUTDOWN_GRACE", "10s");
    if (fake == null) {
      env.put("CHANGESYNC_ROLE", "http");
      // Tracking asks GitHub whether a repository exists.
      env.put("CHANGESYNC_GITHUB_API_URL", FakeGitHub.knowingEveryRepository().baseUrl());
    } else {
      env.put("CHANGESYNC_GITHUB_API_URL", fake.baseUrl());
      env.put("CHANGESYNC_GITHUB_TOKEN", FakeGitHub.DEFAULT_TOKEN);
      env.put("CHANGESYNC_POLL_INTERVAL", "20ms");
      env.put("CHANGESYNC_WEBHOOK_DEBOUNCE", "0s");
      env.put("CHANGESYNC_MIN_FETCH_INTERVAL", "0s");
      env.put("CHANGESYNC_BACKFILL_INTERVAL", "0s");
    }
    return env;
  }

  /** A server started in this process on {@code db} (see {@link #serverEnv}). */
  static ChangesyncServer server(PostgresDatabase db, FakeGitHub fake) {
    return ChangesyncServer.start(ChangesyncConfig.from(serverEnv(db, fake)));
  }

  /** Waits until every open pull request of {@code repo} is current after a scan. */
  static void awaitConverged(Changesync engine, RepoName repo, int open) {
    await()
        .atMost(60, SECONDS)
        .pollInterval(50, MILLISECONDS)
        .until(
            () -> {
              RepositoryStatus s = engine.status().repositoryStatus(repo);
              return s.lastOpenPrScanAt().isPresent()
                  && s.openPrTotal() == open
                  && s.openPrCurrent() == open
                  && s.openPrCursorNumber().isEmpty();
            });
  }
}
