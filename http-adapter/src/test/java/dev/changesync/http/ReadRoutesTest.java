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
import dev.changesync.testkit.github.FakePr;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The read routes, health and metrics of a server with workers (role {@code all}) that has synced
 * a repository from the fake GitHub: real HTTP on a free port, real PostgreSQL.
 */
class ReadRoutesTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  /** SPEC §4's repository status fields, exactly. */
  static final Set<String> REPOSITORY_STATUS_FIELDS =
      Set.of(
          "repository_id", "full_name", "dirty", "dirty_since", "last_webhook_at",
          "last_requested_fetch_at", "last_fetch_started_at", "last_fetch_finished_at",
          "last_successful_fetch_at", "last_backfill_started_at", "last_backfill_finished_at",
          "last_open_pr_scan_at", "backfill_mode", "backfill_priority", "fetch_in_progress",
          "backfill_in_progress", "refresh_in_progress", "fetch_lease_owner_id",
          "fetch_lease_token", "fetch_lease_heartbeat_at", "fetch_lease_expires_at",
          "backfill_lease_owner_id", "backfill_lease_token", "backfill_lease_heartbeat_at",
          "backfill_lease_expires_at", "refresh_lease_owner_id", "refresh_lease_token",
          "refresh_lease_heartbeat_at", "refresh_lease_expires_at", "open_pr_total",
          "open_pr_current", "open_pr_stale", "open_pr_missing", "open_pr_cursor_number",
          "open_pr_cursor_updated_at", "pending_refresh_count", "last_error",
          // issue 16: backoff in the open and honest progress
          "last_error_at", "fetch_failure_count", "fetch_next_attempt_at", "refresh_failure_count",
          "refresh_next_attempt_at", "backfill_failure_count", "backfill_next_attempt_at",
          "github_not_found_at", "converged", "phase",
          "github_rate_limit_remaining", "github_rate_limit_reset_at");

  static final String RFC_3339_UTC = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?Z";

  private static final String STATUS = "/v1/changes/repos/acme/widgets/status";

  private static FakeGitHub fake;
  private static FakeRepo repo;
  private static ChangesyncServer server;
  private static Http http;

  /**
   * A fast configuration of a server on a free port, against {@code fake} (null: a fake GitHub that
   * knows every repository).
   */
  static Map<String, String> env(PostgresDatabase db, FakeGitHub fake) {
    Map<String, String> env = new HashMap<>();
    env.put("CHANGESYNC_DATABASE_URL", db.jdbcUrl());
    env.put("CHANGESYNC_HTTP_PORT", "0");
    env.put("CHANGESYNC_POLL_INTERVAL", "50ms");
    env.put("CHANGESYNC_BACKFILL_INTERVAL", "0s");
    env.put("CHANGESYNC_WEBHOOK_DEBOUNCE", "0s");
    env.put("CHANGESYNC_MIN_FETCH_INTERVAL", "0s");
    env.put("CHANGESYNC_SHUTDOWN_GRACE", "10s");
    FakeGitHub github = fake != null ? fake : FakeGitHub.knowingEveryRepository();
    env.put("CHANGESYNC_GITHUB_API_URL", github.baseUrl());
    env.put("CHANGESYNC_GITHUB_TOKEN", FakeGitHub.DEFAULT_TOKEN);
    return env;
  }

  @BeforeAll
  static void startAndSync() {
    fake = FakeGitHub.start();
    repo = fake.createRepo("acme", "widgets");
    repo.openPrs(2, PrSpec.files(3).withBinaryFiles(1).withRenamedFiles(1));
    repo.openPr(PrSpec.files(2).withDraft(true));
    Map<String, String> env = env(db, fake);
    env.put("CHANGESYNC_WORKER_NAME", "read-routes");
    server = ChangesyncServer.start(ChangesyncConfig.from(env));
    http = new Http(server.baseUri());
    server
        .changesync()
        .admin()
        .configureBackfill(RepoName.of("acme", "widgets"), BackfillMode.OPEN_ONLY, 3);
    await()
        .atMost(60, SECONDS)
        .pollInterval(50, MILLISECONDS)
        .until(
            () -> {
              RepositoryStatus s =
                  server.changesync().status().repositoryStatus(RepoName.of("acme", "widgets"));
              return s.lastOpenPrScanAt().isPresent()
                  && s.openPrTotal() == 3
                  && s.openPrCurrent() == 3
                  && s.openPrCursorNumber().isEmpty();
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

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new TreeSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static int anyPr() {
    return firstPr().number();
  }

  /** The first pull request opened: it has binary and renamed files. */
  private static FakePr firstPr() {
    return repo.openPulls().stream().min(Comparator.comparingInt(FakePr::number)).orElseThrow();
  }

  // --- repository status ------------------------------------------------------------------------

  @Test
  void repositoryStatusHasExactlyTheSpecFieldsInSnakeCaseAndRfc3339Times() {
    Http.Response r = http.get(STATUS);

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("application/json");
    JsonNode status = r.json();
    assertThat(fieldNames(status)).isEqualTo(new TreeSet<>(REPOSITORY_STATUS_FIELDS));
    assertThat(status.get("full_name").asText()).isEqualTo("acme/widgets");
    assertThat(status.get("backfill_mode").asText()).isEqualTo("open_only");
    assertThat(status.get("backfill_priority").asInt()).isEqualTo(3);
    assertThat(status.get("open_pr_total").asInt()).isEqualTo(3);
    assertThat(status.get("open_pr_current").asInt()).isEqualTo(3);
    assertThat(status.get("open_pr_missing").asInt()).isZero();
    assertThat(status.get("last_error").isNull()).isTrue();
    assertThat(status.get("open_pr_cursor_number").isNull()).isTrue();
    assertThat(status.get("last_open_pr_scan_at").asText()).matches(RFC_3339_UTC);
    assertThat(status.get("last_successful_fetch_at").asText()).matches(RFC_3339_UTC);
    assertThat(status.get("fetch_in_progress").isBoolean()).isTrue();
  }

  @Test
  void namesMatchCaseInsensitively() {
    Http.Response r = http.get("/v1/changes/repos/ACME/Widgets/status");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("full_name").asText()).isEqualTo("acme/widgets");
  }

  @Test
  void anUntrackedRepositoryIs404() {
    Http.Response r = http.get("/v1/changes/repos/acme/gadgets/status");

    assertThat(r.status()).isEqualTo(404);
    assertThat(fieldNames(r.json())).containsExactly("message");
    assertThat(r.message()).contains("acme/gadgets").contains("not tracked");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/v1/changes/repos/a.b/widgets/status",
        "/v1/changes/repos/acme/wid%20gets/status",
        "/v1/changes/repos/acme/%2E%2E/status",
        "/v1/changes/repos/o123456789o123456789o123456789o1234567890/widgets/status",
        "/v1/changes/repos/acme/wid$gets/pulls/1",
        "/v1/changes/repos/ac%3Bme/widgets/pulls/1/files",
      })
  void aBadOwnerOrRepositoryNameIs400(String path) {
    Http.Response r = http.get(path);

    assertThat(r.status()).as(path).isEqualTo(400);
    assertThat(fieldNames(r.json())).containsExactly("message");
  }

  // --- pull requests ----------------------------------------------------------------------------

  @Test
  void pullStatusShowsInventoryAndSnapshot() {
    int number = anyPr();
    Http.Response r = http.get("/v1/changes/repos/acme/widgets/pulls/" + number + "/status");

    assertThat(r.status()).isEqualTo(200);
    JsonNode pr = r.json();
    assertThat(fieldNames(pr))
        .containsExactlyInAnyOrder(
            "repository_id", "full_name", "number", "inventory", "snapshot", "pending_refresh");
    assertThat(pr.get("number").asInt()).isEqualTo(number);
    assertThat(pr.at("/inventory/freshness").asText()).isEqualTo("current");
    assertThat(pr.at("/inventory/head_sha").asText()).isEqualTo(repo.pr(number).headSha());
    assertThat(pr.at("/snapshot/head_sha").asText()).isEqualTo(repo.pr(number).headSha());
    assertThat(pr.at("/snapshot/indexed_at").asText()).matches(RFC_3339_UTC);
    assertThat(pr.get("pending_refresh").isNull()).isTrue();
  }

  @Test
  void pullSnapshotHasTheSnapshotFields() {
    FakePr fakePr = firstPr();
    Http.Response r = http.get("/v1/changes/repos/acme/widgets/pulls/" + fakePr.number());

    assertThat(r.status()).isEqualTo(200);
    JsonNode snapshot = r.json();
    assertThat(fieldNames(snapshot))
        .contains(
            "repository_id",
            "full_name",
            "number",
            "state",
            "draft",
            "head_sha",
            "base_sha",
            "base_ref",
            "files_truncated",
            "changed_files",
            "indexed_at");
    assertThat(snapshot.get("head_sha").asText()).isEqualTo(fakePr.headSha());
    assertThat(snapshot.get("base_ref").asText()).isEqualTo(fakePr.baseRef());
    assertThat(snapshot.get("state").asText()).isEqualTo("open");
    assertThat(snapshot.get("changed_files").asInt()).isEqualTo(fakePr.changedFiles());
  }

  @Test
  void pullFilesListEveryFileWithItsHunks() {
    FakePr fakePr = firstPr();
    Http.Response r = http.get("/v1/changes/repos/acme/widgets/pulls/" + fakePr.number() + "/files");

    assertThat(r.status()).isEqualTo(200);
    JsonNode files = r.json().get("files");
    assertThat(files.size()).isEqualTo(fakePr.files().size());
    int hunks = 0;
    List<String> statuses = new ArrayList<>();
    for (JsonNode file : files) {
      assertThat(fieldNames(file))
          .contains("path", "previous_path", "status", "additions", "deletions", "changes", "hunks");
      statuses.add(file.get("status").asText());
      hunks += file.get("hunks").size();
      for (JsonNode hunk : file.get("hunks")) {
        assertThat(fieldNames(hunk))
            .containsExactlyInAnyOrder("old_start", "old_count", "new_start", "new_count");
      }
    }
    assertThat(statuses).contains("renamed");
    assertThat(hunks).isEqualTo(fakePr.hunkCount());
  }

  @Test
  void anUnknownPullRequestIs404() {
    assertThat(http.get("/v1/changes/repos/acme/widgets/pulls/9999/status").status())
        .isEqualTo(404);
    assertThat(http.get("/v1/changes/repos/acme/widgets/pulls/9999").status()).isEqualTo(404);
    Http.Response files = http.get("/v1/changes/repos/acme/widgets/pulls/9999/files");
    assertThat(files.status()).isEqualTo(404);
    assertThat(files.message()).contains("#9999");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-1", "abc", "1.5", "99999999999", "%20"})
  void aBadPullRequestNumberIs400(String number) {
    for (String suffix : List.of("/status", "", "/files")) {
      Http.Response r = http.get("/v1/changes/repos/acme/widgets/pulls/" + number + suffix);
      assertThat(r.status()).as(number + suffix).isEqualTo(400);
      assertThat(r.message()).as(number + suffix).contains("pull request number");
    }
  }

  // --- leases, workers, events ------------------------------------------------------------------

  @Test
  void leasesListsOwnedLeasesWithState() {
    Http.Response r = http.get("/v1/changes/leases");

    assertThat(r.status()).isEqualTo(200);
    assertThat(fieldNames(r.json())).contains("now", "leases");
    assertThat(r.json().get("leases").isArray()).isTrue();
    assertThat(http.get("/v1/changes/leases?stale=true").status()).isEqualTo(200);
    Http.Response bad = http.get("/v1/changes/leases?stale=maybe");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.message()).contains("stale");
  }

  @Test
  void workersListsThisServersWorkerAsAlive() {
    Http.Response r = http.get("/v1/changes/workers");

    assertThat(r.status()).isEqualTo(200);
    JsonNode workers = r.json().get("workers");
    assertThat(workers.size()).isEqualTo(1);
    assertThat(workers.get(0).get("owner_id").asText())
        .isEqualTo(server.changesync().owner().toString());
    assertThat(workers.get(0).get("alive").asBoolean()).isTrue();
    // The shared budget: each credential as last seen by any worker, never the token itself.
    JsonNode credentials = r.json().get("github_credentials");
    assertThat(credentials.size()).isEqualTo(1);
    JsonNode token = credentials.get(0);
    assertThat(token.get("credential").asText()).matches("token:[0-9a-f]{32}");
    assertThat(token.get("remaining").asInt()).isBetween(1, FakeGitHub.DEFAULT_RATE_LIMIT - 1);
    assertThat(token.get("limit").asInt()).isEqualTo(FakeGitHub.DEFAULT_RATE_LIMIT);
    assertThat(token.get("reset_at").asText()).matches(RFC_3339_UTC);
    assertThat(token.get("seen_at").asText()).matches(RFC_3339_UTC);
    assertThat(r.body()).doesNotContain(FakeGitHub.DEFAULT_TOKEN);
  }

  @Test
  void leaseEventsAreNewestFirstAndFilterable() {
    Http.Response all = http.get("/v1/changes/leases/events");
    assertThat(all.status()).isEqualTo(200);
    JsonNode events = all.json().get("events");
    assertThat(events.size()).isPositive();
    assertThat(events.get(0).get("id").asLong())
        .isGreaterThan(events.get(events.size() - 1).get("id").asLong());
    String resource = events.get(0).get("resource").asText();

    JsonNode one = http.get("/v1/changes/leases/events?limit=1&resource=" + resource).json();
    assertThat(one.get("events").size()).isEqualTo(1);
    assertThat(one.get("events").get(0).get("resource").asText()).isEqualTo(resource);
    assertThat(one.get("events").get(0).get("at").asText()).matches(RFC_3339_UTC);
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "1001", "abc", "-5"})
  void aBadEventLimitIs400(String limit) {
    Http.Response r = http.get("/v1/changes/leases/events?limit=" + limit);

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.message()).contains("limit");
  }

  // --- health, readiness, metrics, unknown routes -----------------------------------------------

  @Test
  void healthAndReadiness() {
    Http.Response health = http.get("/healthz");
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.json().get("status").asText()).isEqualTo("ok");

    Http.Response ready = http.get("/readyz");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().get("status").asText()).isEqualTo("ready");
    assertThat(ready.json().get("database_reachable").asBoolean()).isTrue();
    assertThat(ready.json().get("schema_current").asBoolean()).isTrue();
  }

  @Test
  void metricsAreInPrometheusTextFormat() throws Exception {
    http.get(STATUS);
    http.get("/v1/changes/repos/acme/gadgets/status");
    http.get("/no/such/route");

    Http.Response r = http.get("/metrics");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("text/plain").contains("version=0.0.4");
    String text = r.body();
    assertThat(text)
        .containsPattern("changesync_lease_claims_total\\{lane=\"fetch\"} [1-9]")
        .containsPattern("changesync_lease_claims_total\\{lane=\"backfill\"} [1-9]")
        .contains("# TYPE changesync_lease_reclaims_total counter")
        .contains("# TYPE changesync_lease_lost_total counter")
        .contains("# TYPE changesync_lease_manual_releases_total counter")
        .containsPattern(
            "changesync_pass_duration_seconds_count\\{kind=\"requested_fetch\",lane=\"fetch\","
                + "outcome=\"completed\"} [1-9]")
        .containsPattern(
            "changesync_pass_duration_seconds_count\\{kind=\"backfill\",lane=\"backfill\","
                + "outcome=\"completed\"} [1-9]")
        .containsPattern(
            "changesync_github_requests_total\\{kind=\"pulls_list\",status=\"200\"} [1-9]")
        .containsPattern("changesync_github_requests_total\\{kind=\"files\",status=\"200\"} [1-9]")
        .containsPattern("changesync_github_rate_limit_remaining\\{resource=\"core\"} [1-9]")
        .containsPattern(
            "changesync_github_credential_rate_limit_remaining\\{credential=\"token:[0-9a-f]{32}\"}"
                + " [1-9]")
        .containsPattern(
            "changesync_github_credential_rate_limit_reset_timestamp_seconds\\{credential=\"token:"
                + "[0-9a-f]{32}\"} [1-9]")
        .containsPattern(
            "changesync_http_requests_seconds_count\\{method=\"GET\","
                + "route=\"/v1/changes/repos/\\{owner}/\\{repo}/status\",status=\"200\"} [1-9]")
        .containsPattern(
            "changesync_http_requests_seconds_count\\{method=\"GET\","
                + "route=\"/v1/changes/repos/\\{owner}/\\{repo}/status\",status=\"404\"} [1-9]")
        .containsPattern(
            "changesync_http_requests_seconds_count\\{method=\"GET\",route=\"unmatched\","
                + "status=\"404\"} [1-9]")
        .contains("jvm_memory_used_bytes");
    assertThat(text)
        .doesNotContain("/no/such/route")
        .doesNotContain("acme/gadgets")
        .doesNotContain(FakeGitHub.DEFAULT_TOKEN);
    // Repositories by state: one series per state, never one per repository.
    long tracked;
    try (var c = db.dataSource().getConnection();
        var rs = c.createStatement().executeQuery("select count(*) from repository")) {
      rs.next();
      tracked = rs.getLong(1);
    }
    assertThat(tracked).isPositive();
    assertThat(text)
        .contains("changesync_repositories{state=\"tracked\"} " + tracked + ".0")
        .containsPattern("changesync_repositories\\{state=\"converged\"} [0-9]")
        .containsPattern("changesync_repositories\\{state=\"backing_off\"} [0-9]")
        .doesNotContain("acme/widgets");
  }

  @Test
  void anUnknownRouteIs404AndAWrongMethod405AsJson() {
    Http.Response unknown = http.get("/v1/changes/nothing-here");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(fieldNames(unknown.json())).containsExactly("message");

    Http.Response wrongMethod = http.post(STATUS, "{}", Map.of());
    assertThat(wrongMethod.status()).isEqualTo(405);
    assertThat(fieldNames(wrongMethod.json())).containsExactly("message");
  }
}
