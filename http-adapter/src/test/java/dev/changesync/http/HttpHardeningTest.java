package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Requests the server layer itself must refuse, over real HTTP: method-override headers, and what
 * Jetty rejects before (or while) Javalin handles a request — each answered {@code {"message"}}.
 */
class HttpHardeningTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String TOKEN = "hardening-admin-token";
  private static final String SECRET = "hardening-webhook-secret";

  private static ChangesyncServer server;
  private static Http http;
  private static RawHttp raw;

  @BeforeAll
  static void start() {
    Map<String, String> env = ReadRoutesTest.env(db, null);
    env.put("CHANGESYNC_ROLE", "http");
    env.put("CHANGESYNC_ADMIN_TOKEN", TOKEN);
    env.put("CHANGESYNC_WEBHOOK_SECRET", SECRET);
    server = ChangesyncServer.start(ChangesyncConfig.from(env));
    http = new Http(server.baseUri());
    raw = new RawHttp(server.baseUri());
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static void assertJsonError(RawHttp.Response r, int status) {
    assertThat(r.status()).as(r.toString()).isEqualTo(status);
    assertThat(r.headers().get("content-type")).as(r.toString()).startsWith("application/json");
    assertThat(r.json().fieldNames()).toIterable().containsExactly("message");
    assertThat(r.json().get("message").asText()).isNotBlank().doesNotContain("Exception");
  }

  // --- method overrides -------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(strings = {"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"})
  void aMethodOverrideHeaderCannotTurnAGetIntoAnAdminPost(String header) {
    Http.Response r =
        http.get(
            "/v1/changes/recover", Map.of("Authorization", "Bearer " + TOKEN, header, "POST"));

    assertThat(r.status()).as(r.body()).isEqualTo(400);
    assertThat(r.message()).contains(header);
    assertThat(http.get("/v1/changes/leases/events").json().get("events"))
        .as("no recovery pass ran")
        .isEmpty();
  }

  @Test
  void aMethodOverrideHeaderIsRefusedOnEveryRoute() {
    Http.Response r = http.get("/healthz", Map.of("X-HTTP-Method-Override", "DELETE"));

    assertThat(r.status()).isEqualTo(400);
    assertThat(http.get("/healthz").status()).isEqualTo(200);
  }

  // --- what Jetty refuses -----------------------------------------------------------------------

  @Test
  void aUriTooLongIs414Json() {
    RawHttp.Response r =
        raw.send("GET /" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n");

    assertJsonError(r, 414);
  }

  @Test
  void headersTooLargeAre431Json() {
    RawHttp.Response r =
        raw.send(
            "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: "
                + "b".repeat(20_000)
                + "\r\n\r\n");

    assertJsonError(r, 431);
  }

  @Test
  void anUnparseableRequestIs400Json() {
    RawHttp.Response badLength =
        raw.send("POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n");
    RawHttp.Response badHeader =
        raw.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nBad Header Name: x\r\n\r\n");

    assertJsonError(badLength, 400);
    assertJsonError(badHeader, 400);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/webhooks/github", "/v1/changes/repos/acme/widgets/backfill"})
  void aMalformedChunkedBodyIs400Json(String path) {
    RawHttp.Response r =
        raw.send(
            "POST "
                + path
                + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Authorization: Bearer "
                + TOKEN
                + "\r\nX-GitHub-Event: ping\r\nX-GitHub-Delivery: chunk-1\r\n"
                + "X-Hub-Signature-256: sha256="
                + "0".repeat(64)
                + "\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "4\r\n{\"a\"\r\nzz-not-a-chunk-size\r\n\r\n");

    assertJsonError(r, 400);
  }
}
