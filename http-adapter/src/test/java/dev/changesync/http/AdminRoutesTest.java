package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The admin routes of an HTTP-only server (role {@code http}): the bearer token, and what each
 * route does and refuses.
 */
class AdminRoutesTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String TOKEN = "s3cret-admin-token";
  private static final Map<String, String> AUTH =
      Map.of("Authorization", "Bearer " + TOKEN, "Content-Type", "application/json");

  private static ChangesyncServer server;
  private static ChangesyncServer unconfigured;
  private static Http http;
  private static Jdbi jdbi;

  /** Each admin route with a body it accepts. */
  static List<String[]> adminRoutes() {
    return List.of(
        new String[] {"/v1/changes/repos/acme/widgets/backfill", "{\"mode\":\"open_only\"}"},
        new String[] {"/v1/changes/repos/acme/widgets/fetch", ""},
        new String[] {"/v1/changes/recover", ""},
        new String[] {
          "/v1/changes/leases/release", "{\"resource\":\"repo:1\",\"lane\":\"fetch\"}"
        });
  }

  @BeforeAll
  static void start() {
    Map<String, String> env = ReadRoutesTest.env(db, null);
    env.put("CHANGESYNC_ROLE", "http");
    unconfigured = ChangesyncServer.start(ChangesyncConfig.from(env));
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
    if (unconfigured != null) {
      unconfigured.close();
    }
  }

  @BeforeEach
  void clean() throws Exception {
    db.truncateAllTables();
  }

  private static long count(String sql) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  private static Http.Response post(String path, String body) {
    return http.post(path, body, AUTH);
  }

  // --- auth -------------------------------------------------------------------------------------

  @ParameterizedTest
  @MethodSource("adminRoutes")
  void withoutATokenEveryAdminRouteIs401(String path, String body) {
    Http.Response r = http.post(path, body, Map.of("Content-Type", "application/json"));

    assertThat(r.status()).isEqualTo(401);
    assertThat(r.message()).contains("Authorization");
    assertThat(r.header("WWW-Authenticate")).startsWith("Bearer");
    assertThat(count("select count(*) from repository")).isZero();
  }

  @ParameterizedTest
  @MethodSource("adminRoutes")
  void aWrongTokenIs401(String path, String body) {
    for (String header :
        List.of("Bearer wrong-token", "Bearer " + TOKEN + "x", "Basic " + TOKEN, TOKEN, "Bearer")) {
      Http.Response r =
          http.post(
              path, body, Map.of("Authorization", header, "Content-Type", "application/json"));
      assertThat(r.status()).as(header).isEqualTo(401);
      assertThat(r.json().fieldNames()).toIterable().containsExactly("message");
    }
    assertThat(count("select count(*) from repository")).isZero();
  }

  @ParameterizedTest
  @MethodSource("adminRoutes")
  void withNoAdminTokenConfiguredEveryAdminRouteIs403(String path, String body) {
    Http.Response r = new Http(unconfigured.baseUri()).post(path, body, AUTH);

    assertThat(r.status()).isEqualTo(403);
    assertThat(r.message()).contains("CHANGESYNC_ADMIN_TOKEN");
    assertThat(count("select count(*) from repository")).isZero();
  }

  @Test
  void theTokenSchemeIsCaseInsensitive() {
    Http.Response r =
        http.post(
            "/v1/changes/recover", "", Map.of("Authorization", "bearer  " + TOKEN + " "));

    assertThat(r.status()).isEqualTo(200);
  }

  // --- backfill ---------------------------------------------------------------------------------

  @Test
  void backfillTracksAndConfiguresARepositoryAndMarksItDirty() {
    Http.Response r =
        post("/v1/changes/repos/Acme/Widgets/backfill", "{\"mode\":\"open_only\",\"priority\":10}");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("full_name").asText()).isEqualTo("Acme/Widgets");
    assertThat(r.json().get("backfill_mode").asText()).isEqualTo("open_only");
    assertThat(r.json().get("backfill_priority").asInt()).isEqualTo(10);
    assertThat(r.json().get("dirty").asBoolean()).isTrue();
    assertThat(r.json().get("dirty_since").asText()).matches(ReadRoutesTest.RFC_3339_UTC);
    Http.Response status = http.get("/v1/changes/repos/acme/widgets/status");
    assertThat(status.status()).isEqualTo(200);
    assertThat(status.json().get("backfill_priority").asInt()).isEqualTo(10);

    Http.Response off = post("/v1/changes/repos/acme/widgets/backfill", "{\"mode\":\"off\"}");
    assertThat(off.json().get("backfill_mode").asText()).isEqualTo("off");
    assertThat(off.json().get("backfill_priority").asInt()).isZero();
    assertThat(count("select count(*) from repository")).isEqualTo(1);
  }

  @Test
  void anEmptyBackfillBodyMeansOpenOnlyAtPriorityZero() {
    Http.Response r =
        http.post(
            "/v1/changes/repos/acme/widgets/backfill",
            (String) null,
            Map.of("Authorization", "Bearer " + TOKEN));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("backfill_mode").asText()).isEqualTo("open_only");
    assertThat(r.json().get("backfill_priority").asInt()).isZero();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"mode\":\"sometimes\"}",
        "{\"mode\":1}",
        "{\"priority\":\"high\"}",
        "{\"priority\":1.5}",
        "{\"priority\":99999999999}",
        "[1,2]",
        "\"open_only\"",
        "{\"mode\":",
        "not json"
      })
  void aBadBackfillBodyIs400AndChangesNothing(String body) {
    Http.Response r = post("/v1/changes/repos/acme/widgets/backfill", body);

    assertThat(r.status()).as(body).isEqualTo(400);
    assertThat(r.json().fieldNames()).toIterable().containsExactly("message");
    assertThat(count("select count(*) from repository")).isZero();
  }

  @Test
  void aNonJsonContentTypeIs415() {
    Http.Response r =
        http.post(
            "/v1/changes/repos/acme/widgets/backfill",
            "mode=open_only",
            Map.of(
                "Authorization",
                "Bearer " + TOKEN,
                "Content-Type",
                "application/x-www-form-urlencoded"));

    assertThat(r.status()).isEqualTo(415);
    assertThat(r.message()).contains("application/json");
  }

  @Test
  void aBodyOverTheAdminLimitIs413() {
    String big = "{\"mode\":\"open_only\",\"pad\":\"" + "x".repeat(HttpApi.MAX_ADMIN_BODY_BYTES) + "\"}";

    Http.Response r = post("/v1/changes/repos/acme/widgets/backfill", big);

    assertThat(r.status()).isEqualTo(413);
    assertThat(count("select count(*) from repository")).isZero();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/v1/changes/repos/a.b/widgets/backfill",
        "/v1/changes/repos/acme/%2E/fetch",
        "/v1/changes/repos/acme/wid%20gets/backfill"
      })
  void aBadNameOnAnAdminRouteIs400(String path) {
    Http.Response r = post(path, "{}");

    assertThat(r.status()).isEqualTo(400);
    assertThat(count("select count(*) from repository")).isZero();
  }

  // --- fetch ------------------------------------------------------------------------------------

  @Test
  void fetchOfAnUntrackedRepositoryIs404AndTracksNothing() {
    Http.Response r = post("/v1/changes/repos/acme/widgets/fetch", "");

    assertThat(r.status()).isEqualTo(404);
    assertThat(r.message()).contains("not tracked");
    assertThat(count("select count(*) from repository")).isZero();
  }

  @Test
  void fetchOfATrackedRepositoryIsAcceptedAndMarksItDirty() {
    post("/v1/changes/repos/acme/widgets/backfill", "{\"mode\":\"off\"}");
    jdbi.useHandle(
        h -> h.execute("update repository_sync_state set dirty = false, dirty_since = null"));

    Http.Response r = post("/v1/changes/repos/ACME/widgets/fetch", null);

    assertThat(r.status()).isEqualTo(202);
    assertThat(r.json().get("dirty").asBoolean()).isTrue();
    assertThat(r.json().get("last_requested_fetch_at").asText())
        .matches(ReadRoutesTest.RFC_3339_UTC);
  }

  // --- recovery and manual release -----------------------------------------------------------

  @Test
  void recoverRunsTheRecoveryPass() {
    Http.Response r = post("/v1/changes/recover", null);

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("recovered_by").asText()).startsWith("admin@");
    assertThat(r.json().get("total").asInt()).isZero();
    assertThat(r.json().get("freed").isArray()).isTrue();
  }

  @Test
  void releasingAHeldLeaseBumpsItsTokenAndIsRecorded() {
    PostgresLeaseStore store = PostgresLeaseStore.builder(db.dataSource()).build();
    OwnerId holder = OwnerId.newIncarnation("somebody-else");
    ClaimResult.Granted granted =
        (ClaimResult.Granted)
            store.claim(LeaseKey.of("repo:42", "fetch"), holder, LeasePolicy.defaults());

    Http.Response r =
        post(
            "/v1/changes/leases/release",
            "{\"resource\":\"repo:42\",\"lane\":\"fetch\",\"actor\":\"alice\"}");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("previous_owner_id").asText()).isEqualTo(holder.toString());
    assertThat(r.json().get("previous_token").asLong()).isEqualTo(granted.lease().token());
    assertThat(r.json().get("released_by").asText()).isEqualTo("alice");
    assertThat(count("select count(*) from lease where owner_id is not null")).isZero();
    assertThat(
            count(
                "select count(*) from lease_event where kind = 'manually_released'"
                    + " and resource = 'repo:42'"))
        .isEqualTo(1);
    assertThat(http.get("/metrics").body())
        .containsPattern("changesync_lease_manual_releases_total\\{lane=\"fetch\"} [1-9]");

    Http.Response again = post("/v1/changes/leases/release", "{\"resource\":\"repo:42\",\"lane\":\"fetch\"}");
    assertThat(again.status()).isEqualTo(404);
    assertThat(again.message()).contains("not held");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{}",
        "{\"resource\":\"repo:1\"}",
        "{\"lane\":\"fetch\"}",
        "{\"resource\":\"\",\"lane\":\"fetch\"}",
        "{\"resource\":\" repo:1\",\"lane\":\"fetch\"}",
        "{\"resource\":\"repo:1\",\"lane\":\"fetch\",\"actor\":\"\"}",
        "{\"resource\":1,\"lane\":\"fetch\"}"
      })
  void aBadReleaseBodyIs400(String body) {
    Http.Response r = post("/v1/changes/leases/release", body);

    assertThat(r.status()).as(body).isEqualTo(400);
  }
}
