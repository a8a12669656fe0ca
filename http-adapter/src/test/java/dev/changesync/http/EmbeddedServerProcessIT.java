package dev.changesync.http;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.changesync.engine.db.EmbeddedDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import dev.changesync.testkit.github.RequestKind;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server jar as a newcomer runs it: no database URL and no GitHub credentials, {@code HOME}
 * in a temporary folder. It runs an embedded PostgreSQL in {@code ~/.local/share/changesync},
 * reads a public repository anonymously from the fake GitHub, survives {@code kill -9} with its
 * data, refuses a second server on the same data directory, and on SIGTERM exits 0 leaving no
 * {@code postgres} behind.
 */
class EmbeddedServerProcessIT {

  private static final String ADMIN = "embedded-admin-token";

  @TempDir Path home;

  private FakeGitHub fake;
  private ServerJar server;
  private ServerJar second;

  @BeforeEach
  void setUp() {
    fake = FakeGitHub.builder().anonymousAccess().rateLimit(60).start();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (ServerJar s : new ServerJar[] {second, server}) {
      if (s != null && s.isAlive()) {
        s.kill();
      }
    }
    // Never leave a postgres behind, whatever failed above.
    Path dataDir = dataDir();
    EmbeddedDatabase.runningServer(dataDir).ifPresent(ProcessHandle::destroyForcibly);
    fake.close();
  }

  private Path dataDir() {
    return home.resolve(".local/share/changesync").toAbsolutePath();
  }

  private Map<String, String> env() {
    return Map.ofEntries(
        Map.entry("HOME", home.toString()),
        Map.entry("CHANGESYNC_HTTP_PORT", "0"),
        Map.entry("CHANGESYNC_GITHUB_API_URL", fake.baseUrl()),
        Map.entry("CHANGESYNC_ADMIN_TOKEN", ADMIN),
        Map.entry("CHANGESYNC_LEASE_TTL", "3s"),
        Map.entry("CHANGESYNC_POLL_INTERVAL", "100ms"),
        Map.entry("CHANGESYNC_BACKFILL_INTERVAL", "0s"),
        Map.entry("CHANGESYNC_WEBHOOK_DEBOUNCE", "0s"),
        Map.entry("CHANGESYNC_MIN_FETCH_INTERVAL", "0s"),
        Map.entry("CHANGESYNC_SHUTDOWN_GRACE", "5s"));
  }

  private ServerJar startServer() throws Exception {
    ServerJar jar = ServerJar.start(env(), List.of("-Xmx256m"));
    await()
        .atMost(120, SECONDS)
        .pollInterval(100, MILLISECONDS)
        .failFast("the server exited:\n" + jar.output(), () -> !jar.isAlive())
        .until(() -> jar.baseUri().isPresent());
    return jar;
  }

  private static JsonNode status(Http http, String repo) {
    return http.get("/v1/changes/repos/" + repo + "/status").json();
  }

  @Test
  void aNewcomersServerSyncsSurvivesKillMinus9RefusesASecondServerAndStopsItsPostgres()
      throws Exception {
    FakeRepo repo = fake.createRepo("octocat", "hello");
    repo.openPrs(4, PrSpec.files(2));
    fake.createRepo("octocat", "secret");
    fake.notFound("octocat", "secret"); // what GitHub answers anonymous callers for a private one

    server = startServer();
    assertThat(server.output())
        .contains("embedded PostgreSQL in use")
        .contains(dataDir().toString())
        .contains("jdbc:postgresql://127.0.0.1:")
        .contains("no GitHub credentials")
        .contains("60 requests an hour")
        .contains("CHANGESYNC_GITHUB_TOKEN");
    Http http = new Http(server.baseUri().orElseThrow());
    assertThat(http.get("/readyz").status()).isEqualTo(200);
    Map<String, String> admin = Map.of("Authorization", "Bearer " + ADMIN);
    Http.Response tracked = track(http, "octocat/hello");
    assertThat(tracked.status()).as(tracked.body()).isEqualTo(200);
    // A private repository is not visible anonymously: tracking asks GitHub first and refuses.
    Http.Response refused = track(http, "octocat/secret");
    assertThat(refused.status()).as(refused.body()).isEqualTo(404);
    assertThat(refused.body()).contains("not found on GitHub").contains("not tracked");
    await()
        .atMost(60, SECONDS)
        .pollInterval(100, MILLISECONDS)
        .until(
            () -> {
              JsonNode s = status(http, "octocat/hello");
              return s.get("open_pr_total").asInt() == 4 && s.get("open_pr_current").asInt() == 4;
            });
    assertThat(http.get("/metrics").body())
        .as("the anonymous budget left")
        .containsPattern("changesync_github_rate_limit_remaining\\{[^}]*} [1-5]?[0-9]\\.0");
    String snapshot = http.get("/v1/changes/repos/octocat/hello/pulls/1/files").body();

    // kill -9: PostgreSQL keeps running detached, and the next start has to deal with it.
    server.kill();
    assertThat(EmbeddedDatabase.runningServer(dataDir())).as("postgres outlives the JVM").isPresent();
    fake.resetCounters();

    server = startServer();
    Http restarted = new Http(server.baseUri().orElseThrow());
    assertThat(status(restarted, "octocat/hello").get("open_pr_current").asInt()).isEqualTo(4);
    assertThat(restarted.get("/v1/changes/repos/octocat/hello/pulls/1/files").body())
        .isEqualTo(snapshot);
    String scanned = status(restarted, "octocat/hello").get("last_successful_fetch_at").asText();
    assertThat(restarted.post("/v1/changes/repos/octocat/hello/fetch", "", admin).status())
        .isEqualTo(202);
    await()
        .atMost(60, SECONDS)
        .pollInterval(100, MILLISECONDS)
        .until(
            () ->
                !status(restarted, "octocat/hello")
                    .get("last_successful_fetch_at")
                    .asText()
                    .equals(scanned));
    assertThat(status(restarted, "octocat/hello").get("open_pr_current").asInt()).isEqualTo(4);
    assertThat(fake.requests(RequestKind.PULL, 200) + fake.requests(RequestKind.FILES, 200))
        .as("unchanged pull requests are not fetched again after the restart")
        .isZero();

    // A second server on the same data directory while the first runs: refused, clearly.
    second = ServerJar.start(env(), List.of("-Xmx256m"));
    assertThat(second.exitStatus()).isEqualTo(1);
    assertThat(second.output())
        .contains("is in use by another changesync process")
        .contains(dataDir().toString());
    assertThat(restarted.get("/readyz").status()).as("the first one still serves").isEqualTo(200);

    // SIGTERM: exit 0, and no postgres left behind.
    assertThat(server.terminate()).as(server.output()).isZero();
    assertThat(EmbeddedDatabase.runningServer(dataDir())).isEmpty();

    // The data directory opens again, with everything in it.
    try (EmbeddedDatabase db = EmbeddedDatabase.start(dataDir());
        Connection c = DriverManager.getConnection(db.jdbcUrl());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select count(*) from pr_snapshot")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(4);
    }
    assertThat(EmbeddedDatabase.runningServer(dataDir())).isEmpty();
  }

  private static Http.Response track(Http http, String name) {
    return http.post(
        "/v1/changes/repos/" + name + "/backfill",
        "{\"mode\":\"open_only\",\"priority\":5}",
        Map.of("Authorization", "Bearer " + ADMIN, "Content-Type", "application/json"));
  }
}
