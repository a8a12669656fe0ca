package dev.changesync.http;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 16 over real HTTP: tracking checks GitHub first (404, nothing stored), {@code GET
 * /v1/changes/repos} pages through the tracked repositories with their phase and backoff, and
 * {@code DELETE /v1/changes/repos/{owner}/{repo}} untracks (admin only).
 */
class RepositoryRoutesTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String TOKEN = "s3cret-admin-token-for-repos";
  private static final Map<String, String> AUTH =
      Map.of("Authorization", "Bearer " + TOKEN, "Content-Type", "application/json");

  private static FakeGitHub fake;
  private static ChangesyncServer server;
  private static Http http;
  private static Jdbi jdbi;

  @BeforeAll
  static void start() {
    fake = FakeGitHub.start();
    Map<String, String> env = ReadRoutesTest.env(db, fake);
    env.put("CHANGESYNC_WORKER_NAME", "repository-routes");
    env.put("CHANGESYNC_ADMIN_TOKEN", TOKEN);
    server = ChangesyncServer.start(ChangesyncConfig.from(env));
    http = new Http(server.baseUri());
    jdbi = Jdbi.create(db.dataSource());
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (fake != null) {
      fake.close();
    }
  }

  @BeforeEach
  void clean() throws Exception {
    db.truncateAllTables();
  }

  private static long count(String sql) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  private static Http.Response delete(String path, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(http.uri(path)).DELETE();
    headers.forEach(b::header);
    return http.send(b);
  }

  private static Http.Response track(String fullName) {
    return http.post("/v1/changes/repos/" + fullName + "/backfill", "{\"mode\":\"open_only\"}", AUTH);
  }

  private static JsonNode status(String fullName) {
    return http.get("/v1/changes/repos/" + fullName + "/status").json();
  }

  @Test
  void trackingARepositoryGitHubDoesNotKnowIs404AndStoresNothing() {
    Http.Response r = track("acme/doesnotexist");

    assertThat(r.status()).isEqualTo(404);
    assertThat(r.message())
        .isEqualTo(
            "repository acme/doesnotexist was not found on GitHub (or the configured credentials"
                + " cannot see it): not tracked; for a private repository set"
                + " CHANGESYNC_GITHUB_TOKEN to a token that can read it");
    assertThat(count("select count(*) from repository")).isZero();
    assertThat(http.get("/v1/changes/repos").json().get("repositories")).isEmpty();
  }

  @Test
  void theListShowsEachRepositoryUntilItConvergesAndPagesOn() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      fake.createRepo("acme", "repo-" + i).openPrs(2);
      names.add("acme/repo-" + i);
      assertThat(track(names.get(i)).status()).isEqualTo(200);
    }
    await()
        .atMost(60, SECONDS)
        .pollInterval(50, MILLISECONDS)
        .until(() -> names.stream().allMatch(n -> status(n).get("converged").asBoolean()));
    JsonNode converged = status("acme/repo-0");
    assertThat(converged.get("phase").asText()).isEqualTo("idle");
    assertThat(converged.get("fetch_failure_count").asInt()).isZero();
    assertThat(converged.get("fetch_next_attempt_at").isNull()).isTrue();

    JsonNode first = http.get("/v1/changes/repos?limit=2").json();
    assertThat(first.get("repositories")).hasSize(2);
    assertThat(first.get("next").asText()).isEqualTo("acme/repo-1");
    JsonNode entry = first.get("repositories").get(0);
    assertThat(entry.get("full_name").asText()).isEqualTo("acme/repo-0");
    assertThat(entry.get("backfill_mode").asText()).isEqualTo("open_only");
    assertThat(entry.get("open_pr_total").asInt()).isEqualTo(2);
    assertThat(entry.get("open_pr_current").asInt()).isEqualTo(2);
    assertThat(entry.get("converged").asBoolean()).isTrue();
    assertThat(entry.get("phase").asText()).isEqualTo("idle");
    assertThat(entry.has("last_error")).isTrue();
    assertThat(entry.has("next_retry_at")).isTrue();

    JsonNode rest = http.get("/v1/changes/repos?limit=2&after=acme/repo-1").json();
    assertThat(rest.get("repositories")).hasSize(1);
    assertThat(rest.get("repositories").get(0).get("full_name").asText()).isEqualTo("acme/repo-2");
    assertThat(rest.get("next").isNull()).isTrue();

    assertThat(http.get("/v1/changes/repos?limit=0").status()).isEqualTo(400);
    assertThat(http.get("/v1/changes/repos?after=not-a-name").status()).isEqualTo(400);
  }

  @Test
  void deleteUntracksTheRepositoryAndIsAdminOnly() {
    fake.createRepo("acme", "widgets").openPrs(3);
    assertThat(track("acme/widgets").status()).isEqualTo(200);
    await()
        .atMost(60, SECONDS)
        .pollInterval(50, MILLISECONDS)
        .until(() -> status("acme/widgets").get("converged").asBoolean());

    assertThat(delete("/v1/changes/repos/acme/widgets", Map.of()).status()).isEqualTo(401);
    assertThat(count("select count(*) from repository")).isEqualTo(1);

    Http.Response r = delete("/v1/changes/repos/acme/widgets?actor=ops-runbook", AUTH);

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("full_name").asText()).isEqualTo("acme/widgets");
    assertThat(r.json().get("open_prs").asInt()).isEqualTo(3);
    assertThat(r.json().get("snapshots").asInt()).isEqualTo(3);
    assertThat(r.json().get("actor").asText()).isEqualTo("ops-runbook");
    assertThat(r.json().get("leases")).hasSize(3);
    assertThat(count("select count(*) from repository")).isZero();
    assertThat(count("select count(*) from pr_snapshot")).isZero();
    assertThat(http.get("/v1/changes/repos/acme/widgets/status").status()).isEqualTo(404);
    JsonNode events = http.get("/v1/changes/leases/events?limit=10").json().get("events");
    assertThat(events)
        .anySatisfy(
            e -> {
              assertThat(e.get("kind").asText()).isEqualTo("manually_released");
              assertThat(e.get("detail").asText())
                  .isEqualTo("repository acme/widgets untracked by ops-runbook");
            });

    assertThat(delete("/v1/changes/repos/acme/widgets", AUTH).status()).isEqualTo(404);
    assertThat(delete("/v1/changes/repos/acme/bad..name!", AUTH).status()).isEqualTo(400);
  }
}
