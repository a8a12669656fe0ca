package dev.changesync.http;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The dashboard's page and assets and the read routes it uses, over real HTTP against a server
 * that synced a repository from the fake GitHub; and which servers do not serve the page.
 */
class DashboardRoutesTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String ADMIN = "dashboard-admin-token";
  private static final RepoName WIDGETS = RepoName.of("acme", "widgets");

  private static FakeGitHub fake;
  private static ChangesyncServer server;
  private static Http http;

  @BeforeAll
  static void startAndSync() {
    fake = FakeGitHub.start();
    FakeRepo repo = fake.createRepo("acme", "widgets");
    repo.openPrs(2, PrSpec.files(2));
    Map<String, String> env = ReadRoutesTest.env(db, fake);
    env.put("CHANGESYNC_WORKER_NAME", "dashboard-routes");
    env.put("CHANGESYNC_ADMIN_TOKEN", ADMIN);
    server = ChangesyncServer.start(ChangesyncConfig.from(env));
    http = new Http(server.baseUri());
    server.changesync().admin().configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 2);
    await()
        .atMost(60, SECONDS)
        .pollInterval(50, MILLISECONDS)
        .until(
            () -> {
              RepositoryStatus s = server.changesync().status().repositoryStatus(WIDGETS);
              return s.converged() && s.openPrTotal() == 2;
            });
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

  @Test
  void thePageIsServedAsHtmlWithAPolicyThatAllowsOnlyThisServer() {
    Http.Response page = http.get("/");

    assertThat(page.status()).isEqualTo(200);
    assertThat(page.header("Content-Type")).matches("text/html; ?charset=utf-8");
    assertThat(page.header("Content-Security-Policy"))
        .contains("default-src 'none'", "script-src 'self'", "connect-src 'self'")
        .doesNotContain("unsafe-inline", "http:", "https:");
    assertThat(page.header("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(page.body()).contains("<title>changesync</title>", "/dashboard/app.js");
  }

  @Test
  void everyFileThePageLoadsIsServedByThisServerWithItsContentType() {
    Set<String> files = new LinkedHashSet<>(references(http.get("/").body(), "(?:src|href)=\"([^\"]+)\""));
    assertThat(files).contains("/dashboard/app.js", "/dashboard/dashboard.css");
    // Scripts import each other: follow every import from every script.
    List<String> queue = new ArrayList<>(files);
    while (!queue.isEmpty()) {
      String file = queue.remove(0);
      if (file.startsWith("data:") || file.startsWith("#")) {
        continue;
      }
      assertThat(file).as("loaded from this server").startsWith("/dashboard/");
      Http.Response r = http.get(file);
      assertThat(r.status()).as(file).isEqualTo(200);
      if (file.endsWith(".js")) {
        assertThat(r.header("Content-Type")).as(file).matches("text/javascript; ?charset=utf-8");
        for (String imported : references(r.body(), "from \"\\./([^\"]+)\"")) {
          if (files.add("/dashboard/" + imported)) {
            queue.add("/dashboard/" + imported);
          }
        }
      } else if (file.endsWith(".css")) {
        assertThat(r.header("Content-Type")).as(file).matches("text/css; ?charset=utf-8");
        assertThat(r.body()).doesNotContain("url(", "@import");
      }
    }
    assertThat(files).contains("/dashboard/api.js", "/dashboard/views.js", "/dashboard/actions.js");
  }

  @Test
  void anUnknownDashboardFileIsANotFoundInJson() {
    for (String path : List.of("/dashboard/secret.txt", "/dashboard/..%2Fpom.xml", "/dashboard/")) {
      Http.Response r = http.get(path);
      assertThat(r.status()).as(path).isEqualTo(404);
      assertThat(r.json().has("message")).as(path).isTrue();
    }
  }

  @Test
  void theServerRouteSaysWhichTokensAreConfigured() {
    JsonNode body = http.get("/v1/changes/server").json();

    assertThat(body.get("admin_token_configured").asBoolean()).isTrue();
    assertThat(body.get("read_token_configured").asBoolean()).isFalse();
    assertThat(body.get("runs_workers").asBoolean()).isTrue();
    assertThat(body.get("version").asText()).isNotBlank();
    assertThat(body.get("owner_id").asText()).startsWith("dashboard-routes:");
  }

  @Test
  void theRepositoryListHasLastWebhookAndLanesInProgress() {
    JsonNode entry = http.get("/v1/changes/repos").json().get("repositories").get(0);

    assertThat(entry.get("full_name").asText()).isEqualTo("acme/widgets");
    assertThat(entry.has("last_webhook_at")).isTrue();
    assertThat(entry.get("last_webhook_at").isNull()).isTrue();
    for (String lane : List.of("fetch", "refresh", "backfill")) {
      assertThat(entry.get(lane + "_in_progress").isBoolean()).as(lane).isTrue();
    }
    assertThat(entry.get("open_pr_current").asInt()).isEqualTo(2);
  }

  @Test
  void theOpenPullsRouteListsEachOpenPullRequestWithItsFreshness() {
    JsonNode body = http.get("/v1/changes/repos/ACME/Widgets/pulls").json();

    assertThat(body.get("full_name").asText()).isEqualTo("acme/widgets");
    assertThat(body.get("open_pr_total").asInt()).isEqualTo(2);
    assertThat(body.get("now").asText()).matches(ReadRoutesTest.RFC_3339_UTC);
    JsonNode pulls = body.get("pulls");
    assertThat(pulls).hasSize(2);
    for (JsonNode pull : pulls) {
      assertThat(pull.get("freshness").asText()).isEqualTo("current");
      assertThat(pull.get("snapshot_head_sha").asText()).isEqualTo(pull.get("head_sha").asText());
      assertThat(pull.get("updated_at").asText()).matches(ReadRoutesTest.RFC_3339_UTC);
    }
    assertThat(http.get("/v1/changes/repos/acme/widgets/pulls?limit=1").json().get("pulls"))
        .hasSize(1);
    assertThat(http.get("/v1/changes/repos/acme/widgets/pulls?limit=0").status()).isEqualTo(400);
    assertThat(http.get("/v1/changes/repos/acme/nothing/pulls").status()).isEqualTo(404);
    assertThat(http.get("/v1/changes/repos/ac..me/widgets/pulls").status()).isEqualTo(400);
  }

  @Test
  void aWorkerDoesNotServeThePage() {
    Map<String, String> env = ReadRoutesTest.env(db, fake);
    env.put("CHANGESYNC_ROLE", "worker");
    env.put("CHANGESYNC_WORKER_NAME", "dashboard-worker");
    try (ChangesyncServer worker = ChangesyncServer.start(ChangesyncConfig.from(env))) {
      Http workerHttp = new Http(worker.baseUri());
      for (String path : List.of("/", "/dashboard/app.js", "/v1/changes/server")) {
        assertThat(workerHttp.get(path).status()).as(path).isEqualTo(404);
      }
    }
  }

  @Test
  void withAReadTokenThePageLoadsButItsDataNeedsTheToken() {
    Map<String, String> env = ReadRoutesTest.env(db, fake);
    env.put("CHANGESYNC_ROLE", "http");
    env.put("CHANGESYNC_READ_TOKEN", "dashboard-read-token");
    try (ChangesyncServer reader = ChangesyncServer.start(ChangesyncConfig.from(env))) {
      Http readerHttp = new Http(reader.baseUri());

      assertThat(readerHttp.get("/").status()).isEqualTo(200);
      assertThat(readerHttp.get("/dashboard/app.js").status()).isEqualTo(200);
      assertThat(readerHttp.get("/v1/changes/server").status()).isEqualTo(401);
      JsonNode body =
          readerHttp
              .get("/v1/changes/server", Map.of("Authorization", "Bearer dashboard-read-token"))
              .json();
      assertThat(body.get("read_token_configured").asBoolean()).isTrue();
      assertThat(body.get("admin_token_configured").asBoolean()).isFalse();
      assertThat(body.get("runs_workers").asBoolean()).isFalse();
    }
  }

  private static List<String> references(String text, String regex) {
    List<String> found = new ArrayList<>();
    Matcher m = Pattern.compile(regex).matcher(text);
    while (m.find()) {
      found.add(m.group(1));
    }
    return found;
  }
}
