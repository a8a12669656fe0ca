package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.WebhookBudget;
import dev.changesync.engine.service.WebhookIntake;
import dev.changesync.testkit.GeneratedBody;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code POST /webhooks/github} over real HTTP: signatures, dedupe, limits, content types. */
class WebhookRoutesTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String SECRET = "It's a Secret to Everybody";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long GITHUB_REPO_ID = 1296269;

  private static ChangesyncServer server;
  private static ChangesyncServer withoutSecret;
  private static Http http;
  private static Jdbi jdbi;

  @BeforeAll
  static void start() {
    Map<String, String> env = ReadRoutesTest.env(db, null);
    env.put("CHANGESYNC_ROLE", "http");
    withoutSecret = ChangesyncServer.start(ChangesyncConfig.from(env));
    env.put("CHANGESYNC_WEBHOOK_SECRET", SECRET);
    server = ChangesyncServer.start(ChangesyncConfig.from(env));
    http = new Http(server.baseUri());
    jdbi = Jdbi.create(db.dataSource());
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (withoutSecret != null) {
      withoutSecret.close();
    }
  }

  @BeforeEach
  void track() throws Exception {
    db.truncateAllTables();
    server
        .changesync()
        .admin()
        .configureBackfill(RepoName.of("Octocat", "Hello-World"), BackfillMode.OPEN_ONLY, 0);
    jdbi.useHandle(
        h -> h.execute("update repository_sync_state set dirty = false, dirty_since = null"));
  }

  // --- GitHub's shapes --------------------------------------------------------------------------

  /** A {@code pull_request} payload in GitHub's shape (abridged in the nested URLs). */
  static byte[] pullRequestPayload(String action, int number) {
    ObjectNode root = JSON.createObjectNode();
    root.put("action", action);
    root.put("number", number);
    ObjectNode user = JSON.createObjectNode();
    user.put("login", "monalisa");
    user.put("id", 583231);
    user.put("type", "User");
    ObjectNode repository = JSON.createObjectNode();
    repository.put("id", GITHUB_REPO_ID);
    repository.put("node_id", "MDEwOlJlcG9zaXRvcnkxMjk2MjY5");
    repository.put("name", "Hello-World");
    repository.put("full_name", "Octocat/Hello-World");
    repository.put("private", false);
    ObjectNode owner = repository.putObject("owner");
    owner.put("login", "Octocat");
    owner.put("id", 1);
    repository.put("default_branch", "main");
    ObjectNode pr = root.putObject("pull_request");
    pr.put("url", "https://api.github.com/repos/Octocat/Hello-World/pulls/" + number);
    pr.put("id", 1_000_000L + number);
    pr.put("number", number);
    pr.put("state", action.equals("closed") ? "closed" : "open");
    pr.put("title", "Amazing new feature");
    pr.set("user", user.deepCopy());
    pr.put("body", "Please pull these awesome changes in!");
    pr.put("created_at", "2025-12-30T10:00:00Z");
    pr.put("updated_at", "2026-01-01T00:04:00Z");
    pr.putNull("merged_at");
    pr.put("draft", false);
    ObjectNode head = pr.putObject("head");
    head.put("ref", "new-topic");
    head.put("sha", "6dcb09b5b57875f334f61aebed695e2e4193db5e");
    head.set("repo", repository.deepCopy());
    ObjectNode base = pr.putObject("base");
    base.put("ref", "main");
    base.put("sha", "9049f1265b7d61be4a8904a9a27120d2064dab3b");
    base.set("repo", repository.deepCopy());
    pr.put("merged", false);
    pr.put("changed_files", 5);
    root.set("repository", repository);
    root.set("sender", user);
    try {
      return JSON.writeValueAsBytes(root);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String sign(String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** GitHub's delivery headers, signed with {@code signature}. */
  static Map<String, String> headers(String event, String delivery, String signature) {
    Map<String, String> headers = new HashMap<>();
    headers.put("Content-Type", "application/json");
    headers.put("User-Agent", "GitHub-Hookshot/044aadd");
    headers.put("X-GitHub-Event", event);
    headers.put("X-GitHub-Delivery", delivery);
    headers.put("X-GitHub-Hook-ID", "292430182");
    if (signature != null) {
      headers.put("X-Hub-Signature-256", signature);
    }
    return headers;
  }

  private static Http.Response deliver(byte[] body, String delivery) {
    return http.post(
        "/webhooks/github", body, headers("pull_request", delivery, sign(SECRET, body)));
  }

  private static long count(String sql) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  private static void assertNothingWritten() {
    assertThat(count("select count(*) from webhook_delivery")).isZero();
    assertThat(count("select count(*) from refresh_hint")).isZero();
    assertThat(count("select count(*) from repository_sync_state where last_webhook_at is not null"))
        .isZero();
    assertThat(count("select count(*) from repository_sync_state where dirty")).isZero();
  }

  // --- accepted ---------------------------------------------------------------------------------

  @Test
  void aSignedPullRequestEventIsAcceptedAndItsHintRecorded() {
    byte[] body = pullRequestPayload("opened", 1347);
    long startedAt = System.nanoTime();

    Http.Response r = deliver(body, UUID.randomUUID().toString());

    Duration took = Duration.ofNanos(System.nanoTime() - startedAt);
    assertThat(r.status()).isEqualTo(202);
    assertThat(r.json().get("outcome").asText()).isEqualTo("accepted");
    assertThat(r.json().get("number").asInt()).isEqualTo(1347);
    assertThat(r.json().get("marked_dirty").asBoolean()).isTrue();
    assertThat(count("select count(*) from refresh_hint where number = 1347")).isEqualTo(1);
    assertThat(count("select count(*) from repository_sync_state where last_webhook_at is not null"))
        .isEqualTo(1);
    assertThat(took).as("answered at once; the work is the refresh lane's").isLessThan(Duration.ofSeconds(2));
    Http.Response status = http.get("/v1/changes/repos/octocat/hello-world/status");
    assertThat(status.json().get("pending_refresh_count").asInt()).isEqualTo(1);
    assertThat(status.json().get("last_webhook_at").asText()).matches(ReadRoutesTest.RFC_3339_UTC);
    assertThat(http.get("/v1/changes/repos/octocat/hello-world/pulls/1347/status").json()
            .at("/pending_refresh/last_action").asText())
        .isEqualTo("opened");
  }

  @Test
  void aRedeliveryIsAcceptedOnce() {
    byte[] body = pullRequestPayload("synchronize", 7);
    String delivery = UUID.randomUUID().toString();

    Http.Response first = deliver(body, delivery);
    Http.Response again = deliver(body, delivery);

    assertThat(first.status()).isEqualTo(202);
    assertThat(first.json().get("outcome").asText()).isEqualTo("accepted");
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.json().get("outcome").asText()).isEqualTo("duplicate");
    assertThat(count("select count from refresh_hint where number = 7")).isEqualTo(1);
    assertThat(count("select count(*) from webhook_delivery")).isEqualTo(1);
  }

  @Test
  void otherEventsAreAcknowledgedAndIgnored() {
    byte[] body = "{\"zen\":\"Keep it logically awesome.\",\"hook_id\":1}".getBytes(StandardCharsets.UTF_8);

    Http.Response r =
        http.post("/webhooks/github", body, headers("ping", "ping-1", sign(SECRET, body)));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("outcome").asText()).isEqualTo("ignored");
    assertThat(count("select count(*) from refresh_hint")).isZero();
  }

  // --- refused ----------------------------------------------------------------------------------

  @Test
  void aWrongSignatureIs401AndWritesNothing() {
    byte[] body = pullRequestPayload("opened", 1);

    Http.Response wrongSecret =
        http.post("/webhooks/github", body, headers("pull_request", "d-1", sign("other", body)));
    byte[] tampered = pullRequestPayload("opened", 2);
    Http.Response otherBody =
        http.post("/webhooks/github", tampered, headers("pull_request", "d-2", sign(SECRET, body)));
    Http.Response garbage =
        http.post("/webhooks/github", body, headers("pull_request", "d-3", "sha256=zz"));

    for (Http.Response r : new Http.Response[] {wrongSecret, otherBody, garbage}) {
      assertThat(r.status()).isEqualTo(401);
      assertThat(r.json().fieldNames()).toIterable().containsExactly("message");
    }
    assertNothingWritten();
  }

  @Test
  void aMissingSignatureIs401AndWritesNothing() {
    byte[] body = pullRequestPayload("opened", 1);

    Http.Response r = http.post("/webhooks/github", body, headers("pull_request", "d-1", null));

    assertThat(r.status()).isEqualTo(401);
    assertThat(r.message()).contains("X-Hub-Signature-256");
    assertNothingWritten();
  }

  @Test
  void aBodyOver25MbIs413AndWritesNothing() {
    byte[] body = new byte[26 * 1024 * 1024];
    java.util.Arrays.fill(body, (byte) ' ');

    Http.Response declared = deliver(body, "big-1");

    assertThat(declared.status()).isEqualTo(413);
    assertThat(declared.message()).contains("25 MB");
    assertNothingWritten();
  }

  @Test
  void aClientThatWritesAWhole26MbBodyBeforeReadingStillReadsThe413() throws Exception {
    int length = 26 * 1024 * 1024;
    String head =
        "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: big-raw\r\n"
            + "X-Hub-Signature-256: sha256="
            + "0".repeat(64)
            + "\r\nContent-Length: "
            + length
            + "\r\n\r\n";
    try (java.net.Socket socket =
        new java.net.Socket(server.baseUri().getHost(), server.baseUri().getPort())) {
      socket.setSoTimeout(30_000);
      java.io.OutputStream out = socket.getOutputStream();
      out.write(head.getBytes(StandardCharsets.ISO_8859_1));
      byte[] chunk = new byte[64 * 1024];
      java.util.Arrays.fill(chunk, (byte) ' ');
      for (int sent = 0; sent < length; sent += chunk.length) {
        out.write(chunk, 0, Math.min(chunk.length, length - sent));
      }
      out.flush();
      java.io.BufferedReader in =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
      assertThat(in.readLine()).startsWith("HTTP/1.1 413");
    }
    assertNothingWritten();
  }

  @Test
  void aChunkedBodyOver25MbIs413Too() {
    byte[] body = new byte[(int) WebhookIntake.MAX_BODY_BYTES + 1];
    java.util.Arrays.fill(body, (byte) ' ');
    HttpRequest.Builder request =
        HttpRequest.newBuilder(http.uri("/webhooks/github"))
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)));
    headers("pull_request", "big-2", sign(SECRET, body)).forEach(request::header);

    Http.Response r = http.send(request);

    assertThat(r.status()).isEqualTo(413);
    assertNothingWritten();
  }

  // --- streamed bodies and the budget of bytes in flight ----------------------------------------

  /** Takes every byte of the budget, large share and small headroom alike. */
  private static List<WebhookBudget.Reservation> fill(WebhookBudget budget) {
    List<WebhookBudget.Reservation> held = new ArrayList<>();
    held.add(budget.tryReserve(budget.capacityBytes() - budget.smallHeadroomBytes()).orElseThrow());
    while (true) {
      var small = budget.tryReserve(WebhookBudget.SMALL_DELIVERY_BYTES);
      if (small.isEmpty()) {
        return held;
      }
      held.add(small.get());
    }
  }

  @Test
  void whenTheBodiesInFlightFillTheBudgetADeliveryIs503WithRetryAfter() {
    WebhookBudget budget = server.changesync().webhooks().budget();
    byte[] body = pullRequestPayload("opened", 77);
    List<WebhookBudget.Reservation> held = fill(budget);
    Http.Response refused;
    try {
      refused = deliver(body, "busy-1");
    } finally {
      held.forEach(WebhookBudget.Reservation::close);
    }

    assertThat(refused.status()).isEqualTo(503);
    assertThat(refused.header("Retry-After")).isEqualTo("5");
    assertThat(refused.json().fieldNames()).toIterable().containsExactly("message");
    assertThat(refused.message()).contains("in flight");
    assertNothingWritten();
    assertThat(http.get("/metrics").body())
        .containsPattern("changesync_webhook_overloaded_total [1-9]");
    Http.Response retried = deliver(body, "busy-1");
    assertThat(retried.status()).as("accepted once there is room").isEqualTo(202);
  }

  @Test
  void aStreamedBodyWithAWrongSignatureIs401AndWritesNothing() {
    String wellFormedButWrong = sign(SECRET, pullRequestPayload("opened", 1));
    HttpRequest.Builder request =
        HttpRequest.newBuilder(http.uri("/webhooks/github"))
            .POST(
                HttpRequest.BodyPublishers.ofInputStream(
                    () -> GeneratedBody.spaces(8L * 1024 * 1024)));
    headers("pull_request", "chunked-bad", wellFormedButWrong).forEach(request::header);

    Http.Response r = http.send(request);

    assertThat(r.status()).isEqualTo(401);
    assertThat(r.message()).isEqualTo("X-Hub-Signature-256 does not match the body");
    assertNothingWritten();
    assertThat(server.changesync().webhooks().budget().usedBytes()).isZero();
  }

  @Test
  void aNonJsonContentTypeIs415() {
    byte[] body = "payload=%7B%7D".getBytes(StandardCharsets.UTF_8);
    Map<String, String> headers = headers("pull_request", "form-1", sign(SECRET, body));
    headers.put("Content-Type", "application/x-www-form-urlencoded");

    Http.Response r = http.post("/webhooks/github", body, headers);

    assertThat(r.status()).isEqualTo(415);
    assertThat(r.message()).contains("application/json");
    assertNothingWritten();
  }

  @Test
  void withNoWebhookSecretConfiguredTheRouteIs403() {
    byte[] body = pullRequestPayload("opened", 1);

    Http.Response r =
        new Http(withoutSecret.baseUri())
            .post("/webhooks/github", body, headers("pull_request", "d-1", sign(SECRET, body)));

    assertThat(r.status()).isEqualTo(403);
    assertThat(r.message()).contains("CHANGESYNC_WEBHOOK_SECRET");
    assertNothingWritten();
  }
}
