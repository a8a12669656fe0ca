package dev.changesync.http;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changesync.testkit.GeneratedBody;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The webhook route under a flood of unauthenticated large bodies, on the packaged jar with {@code
 * -Xmx256m} (and {@code -XX:+ExitOnOutOfMemoryError}, so running out of memory ends the process):
 * {@value #FLOODERS} senders each post bodies of 24 MB (at least {@value #ROUNDS}, and until
 * {@value #VALID_DELIVERIES} valid deliveries have been sent beside them) with a well-formed but
 * wrong signature — half with a {@code Content-Length}, half chunked, made up as they are sent —
 * while the worker syncs a slow repository under leases and valid deliveries arrive. The server
 * must stay alive and healthy, every valid delivery must be accepted (GitHub does not retry), and
 * the worker's heartbeats must stay on time: no lease lost or reclaimed, none ever stale.
 */
class WebhookFloodIT {

  @RegisterExtension static final PostgresDatabase db = PostgresDatabase.empty();

  static final int FLOODERS = 30;
  static final int ROUNDS = 2;
  static final int VALID_DELIVERIES = 20;
  static final long FLOOD_BODY_BYTES = 24L * 1024 * 1024;
  private static final String SECRET = "flood-webhook-secret";
  private static final String TOKEN = "flood-admin-token";

  private FakeGitHub fake;
  private ServerJar server;

  @AfterEach
  void tearDown() {
    if (server != null) {
      server.close();
    }
    if (fake != null) {
      fake.close();
    }
  }

  @Test
  void aFloodOfLargeBadlySignedBodiesLeavesTheServerHealthyAndValidDeliveriesAccepted()
      throws Exception {
    fake = FakeGitHub.start();
    FakeRepo repo = fake.createRepo("acme", "widgets");
    repo.openPrs(60, PrSpec.files(3));
    fake.latency(Duration.ofMillis(60)); // passes take a while: leases are held through the flood
    server =
        ServerJar.start(
            Map.ofEntries(
                Map.entry("CHANGESYNC_DATABASE_URL", db.jdbcUrl()),
                Map.entry("CHANGESYNC_HTTP_PORT", "0"),
                Map.entry("CHANGESYNC_GITHUB_API_URL", fake.baseUrl()),
                Map.entry("CHANGESYNC_GITHUB_TOKEN", FakeGitHub.DEFAULT_TOKEN),
                Map.entry("CHANGESYNC_ADMIN_TOKEN", TOKEN),
                Map.entry("CHANGESYNC_WEBHOOK_SECRET", SECRET),
                Map.entry("CHANGESYNC_WORKER_NAME", "flood-it"),
                Map.entry("CHANGESYNC_LEASE_TTL", "10s"),
                Map.entry("CHANGESYNC_HEARTBEAT_INTERVAL", "1s"),
                Map.entry("CHANGESYNC_STALE_AFTER", "4s"),
                Map.entry("CHANGESYNC_POLL_INTERVAL", "100ms"),
                Map.entry("CHANGESYNC_BACKFILL_INTERVAL", "0s"),
                Map.entry("CHANGESYNC_WEBHOOK_DEBOUNCE", "0s"),
                Map.entry("CHANGESYNC_MIN_FETCH_INTERVAL", "0s")),
            List.of("-Xmx256m", "-XX:+ExitOnOutOfMemoryError"));
    await()
        .atMost(60, SECONDS)
        .pollInterval(100, MILLISECONDS)
        .failFast("the server exited:\n" + server.output(), () -> !server.isAlive())
        .until(() -> server.baseUri().isPresent());
    URI base = server.baseUri().orElseThrow();
    Http http = new Http(base);
    Http.Response tracked =
        http.post(
            "/v1/changes/repos/acme/widgets/backfill",
            "{\"mode\":\"open_only\"}",
            Map.of("Authorization", "Bearer " + TOKEN, "Content-Type", "application/json"));
    assertThat(tracked.status()).as(tracked.body()).isEqualTo(200);
    Jdbi jdbi = Jdbi.create(db.dataSource());
    await()
        .atMost(30, SECONDS)
        .pollInterval(50, MILLISECONDS)
        .until(() -> heldLeases(jdbi) > 0);

    // The flood: 30 senders at once, each body made up as it is sent.
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    ExecutorService flooders = Executors.newFixedThreadPool(FLOODERS);
    Map<String, AtomicInteger> floodOutcomes = new ConcurrentHashMap<>();
    String wrong = WebhookRoutesTest.sign(SECRET, "a different body".getBytes(StandardCharsets.UTF_8));
    AtomicInteger validSent = new AtomicInteger();
    List<Future<?>> flood = new ArrayList<>();
    for (int i = 0; i < FLOODERS; i++) {
      boolean declared = i % 2 == 0;
      flood.add(
          flooders.submit(
              () -> {
                for (int round = 0;
                    round < ROUNDS || validSent.get() < VALID_DELIVERIES;
                    round++) {
                  String outcome = floodPost(client, base, wrong, declared);
                  floodOutcomes.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
                }
                return null;
              }));
    }

    // Meanwhile: valid deliveries, health probes and heartbeat lag, until the flood is over.
    List<String> refusedValid = new ArrayList<>();
    int valid = 0;
    double worstLagSeconds = 0;
    int heldSamples = 0;
    while (flood.stream().anyMatch(f -> !f.isDone())) {
      assertThat(server.isAlive()).as("the server died:\n" + server.output()).isTrue();
      byte[] body = validPayload(1 + valid % 60);
      String delivery = "valid-" + valid++;
      validSent.set(valid);
      Http.Response r =
          http.post(
              "/webhooks/github",
              body,
              WebhookRoutesTest.headers(
                  "pull_request", delivery, WebhookRoutesTest.sign(SECRET, body)));
      if (r.status() != 202) {
        refusedValid.add(delivery + ": " + r.status() + " " + r.body());
      }
      assertThat(http.get("/healthz").status()).isEqualTo(200);
      if (heldLeases(jdbi) > 0) {
        heldSamples++;
        worstLagSeconds = Math.max(worstLagSeconds, heartbeatLagSeconds(jdbi));
      }
      Thread.sleep(100);
    }
    for (Future<?> f : flood) {
      f.get(60, SECONDS);
    }
    flooders.shutdown();

    System.out.printf(
        "webhook flood: %s; %d valid deliveries; worst heartbeat lag %.2f s over %d samples%n",
        floodOutcomes, valid, worstLagSeconds, heldSamples);
    assertThat(server.isAlive()).as(server.output()).isTrue();
    assertThat(http.get("/healthz").status()).isEqualTo(200);
    assertThat(http.get("/readyz").status()).isEqualTo(200);
    assertThat(server.output()).doesNotContain("OutOfMemoryError");
    assertThat(refusedValid).as("valid deliveries not accepted").isEmpty();
    assertThat(floodOutcomes).as("no flood body was accepted").doesNotContainKey("202");
    assertThat(heldSamples).as("leases were held during the flood").isPositive();
    assertThat(worstLagSeconds)
        .as("heartbeats on time: a held lease never went a stale-after (4 s) without one")
        .isLessThan(4.0);
    assertThat(
            count(
                jdbi,
                "select count(*) from lease_event where kind in ('lost', 'reclaimed', 'recovered')"))
        .as("no lease lost or taken over: %s", lossesOf(jdbi))
        .isZero();
    assertThat(count(jdbi, "select count(*) from webhook_delivery where delivery_id like 'valid-%'"))
        .isEqualTo(valid);
  }

  /** One flood post; its outcome is the status, or the kind of I/O failure when refused early. */
  private static String floodPost(HttpClient client, URI base, String signature, boolean declared) {
    HttpRequest.BodyPublisher body =
        HttpRequest.BodyPublishers.ofInputStream(() -> GeneratedBody.spaces(FLOOD_BODY_BYTES));
    if (declared) {
      body = HttpRequest.BodyPublishers.fromPublisher(body, FLOOD_BODY_BYTES);
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(base.resolve("/webhooks/github"))
            .timeout(Duration.ofSeconds(60))
            .POST(body);
    WebhookRoutesTest.headers("pull_request", "junk", signature).forEach(request::header);
    try {
      return Integer.toString(
          client.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode());
    } catch (IOException e) {
      return "io-error"; // refused before the body was sent: the server closed the connection
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static byte[] validPayload(int number) {
    String json =
        new String(WebhookRoutesTest.pullRequestPayload("synchronize", number), StandardCharsets.UTF_8)
            .replace("Octocat/Hello-World", "acme/widgets");
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static long heldLeases(Jdbi jdbi) {
    return count(jdbi, "select count(*) from lease where owner_id like 'flood-it:%'");
  }

  private static double heartbeatLagSeconds(Jdbi jdbi) {
    return jdbi.withHandle(
        h ->
            h.createQuery(
                    "select coalesce(max(extract(epoch from now() - heartbeat_at)), 0)::float8"
                        + " from lease where owner_id like 'flood-it:%'")
                .mapTo(Double.class)
                .one());
  }

  private static long count(Jdbi jdbi, String sql) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  /** The lease events that say a lease was lost or taken over, for a failure message. */
  private static String lossesOf(Jdbi jdbi) {
    List<Map<String, Object>> rows =
        jdbi.withHandle(
            h ->
                h.createQuery(
                        "select kind, resource, lane, owner_id, token, detail, at from lease_event"
                            + " where kind in ('lost', 'reclaimed', 'recovered')")
                    .mapToMap()
                    .list());
    return rows.toString();
  }
}
