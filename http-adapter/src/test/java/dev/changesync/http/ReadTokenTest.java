package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code CHANGESYNC_READ_TOKEN}: every read route needs it (or the admin token) when it is set and
 * answers as before with it; without it reads are open; probes and metrics are always open.
 */
class ReadTokenTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String READ_TOKEN = "read-token-for-tests-0123";
  private static final String ADMIN_TOKEN = "admin-token-for-tests-0123";

  private static ChangesyncServer open;
  private static ChangesyncServer guarded;

  /** Every read route (SPEC §4), for a tracked repository with no pull requests yet. */
  static List<String> readRoutes() {
    return List.of(
        "/v1/changes/repos/acme/widgets/status",
        "/v1/changes/repos/acme/widgets/pulls/1/status",
        "/v1/changes/repos/acme/widgets/pulls/1",
        "/v1/changes/repos/acme/widgets/pulls/1/files",
        "/v1/changes/leases",
        "/v1/changes/leases?stale=true",
        "/v1/changes/leases/events",
        "/v1/changes/leases/events?resource=acme/widgets&limit=5",
        "/v1/changes/workers");
  }

  @BeforeAll
  static void start() {
    Map<String, String> env = ReadRoutesTest.env(db, null);
    env.put("CHANGESYNC_ROLE", "http");
    env.put("CHANGESYNC_ADMIN_TOKEN", ADMIN_TOKEN);
    open = ChangesyncServer.start(ChangesyncConfig.from(env));
    env.put("CHANGESYNC_READ_TOKEN", READ_TOKEN);
    guarded = ChangesyncServer.start(ChangesyncConfig.from(env));
    Http.Response tracked =
        new Http(open.baseUri())
            .post(
                "/v1/changes/repos/acme/widgets/backfill",
                "{\"mode\":\"open_only\"}",
                Map.of("Authorization", "Bearer " + ADMIN_TOKEN));
    assertThat(tracked.status()).as(tracked.body()).isEqualTo(200);
  }

  @AfterAll
  static void stop() {
    for (ChangesyncServer server : new ChangesyncServer[] {guarded, open}) {
      if (server != null) {
        server.close();
      }
    }
  }

  private static Map<String, String> bearer(String token) {
    return Map.of("Authorization", "Bearer " + token);
  }

  @ParameterizedTest
  @MethodSource("readRoutes")
  void withAReadTokenConfiguredEveryReadRouteRefusesARequestWithoutIt(String path) {
    Http.Response r = new Http(guarded.baseUri()).get(path);

    assertThat(r.status()).isEqualTo(401);
    assertThat(r.header("WWW-Authenticate")).isEqualTo("Bearer realm=\"changesync\"");
    assertThat(r.header("Content-Type")).startsWith("application/json");
    assertThat(r.json().fieldNames()).toIterable().containsExactly("message");
    assertThat(r.message()).isEqualTo("missing Authorization header: Bearer <read token>");
  }

  @ParameterizedTest
  @MethodSource("readRoutes")
  void aWrongTokenIsRefused(String path) {
    Http http = new Http(guarded.baseUri());
    for (String header :
        List.of(
            "Bearer wrong-token-0123456789",
            "Bearer " + READ_TOKEN + "x",
            "Basic " + READ_TOKEN,
            READ_TOKEN,
            "Bearer")) {
      Http.Response r = http.get(path, Map.of("Authorization", header));

      assertThat(r.status()).as(header).isEqualTo(401);
      assertThat(r.header("WWW-Authenticate")).as(header).startsWith("Bearer");
      assertThat(r.message())
          .as(header)
          .isIn("invalid read token", "Authorization header must be: Bearer <read token>");
    }
  }

  @ParameterizedTest
  @MethodSource("readRoutes")
  void theReadTokenAndTheAdminTokenBothReadExactlyWhatAnOpenServerAnswers(String path) {
    Http.Response expected = new Http(open.baseUri()).get(path);
    assertThat(expected.status()).as("without a read token: open").isIn(200, 404);
    assertThat(new Http(guarded.baseUri()).get(path).status()).isEqualTo(401);

    for (String token : List.of(READ_TOKEN, ADMIN_TOKEN)) {
      Http.Response r = new Http(guarded.baseUri()).get(path, bearer(token));

      assertThat(r.status()).as(path).isEqualTo(expected.status());
      assertThat(withoutNow(r.json())).as(path).isEqualTo(withoutNow(expected.json()));
    }
  }

  /** The answer without its "now" (leases and workers carry one), which differs between calls. */
  private static JsonNode withoutNow(JsonNode json) {
    if (json instanceof ObjectNode object) {
      object.remove("now");
    }
    return json;
  }

  @ParameterizedTest
  @ValueSource(strings = {"/healthz", "/readyz", "/metrics"})
  void probesAndMetricsStayOpen(String path) {
    Http http = new Http(guarded.baseUri());

    assertThat(http.get(path).status()).isEqualTo(200);
    assertThat(http.get("/v1/changes/leases").status()).isEqualTo(401);
  }

  @Test
  void theReadTokenIsNoAdminToken() {
    Http http = new Http(guarded.baseUri());
    assertThat(http.get("/v1/changes/leases").status()).isEqualTo(401);
    assertThat(http.get("/v1/changes/leases", bearer(READ_TOKEN)).status()).isEqualTo(200);

    Http.Response r = http.post("/v1/changes/recover", "", bearer(READ_TOKEN));

    assertThat(r.status()).isEqualTo(401);
    assertThat(r.message()).isEqualTo("invalid admin token");
  }

  @Test
  void unknownPathsUnderTheApiNeedTheTokenToo() {
    Http http = new Http(guarded.baseUri());

    assertThat(http.get("/v1/changes/nothing-here").status()).isEqualTo(401);
    assertThat(http.get("/v1/changes/nothing-here", bearer(READ_TOKEN)).status()).isEqualTo(404);
  }
}
