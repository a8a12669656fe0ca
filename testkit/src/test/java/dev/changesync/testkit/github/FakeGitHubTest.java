package dev.changesync.testkit.github;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The fake's protocol, checked with a bare HTTP client. */
class FakeGitHubTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final AtomicReference<Instant> now =
      new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
  private final FakeGitHub fake = FakeGitHub.builder().clock(now::get).start();
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    fake.close();
  }

  private HttpResponse<String> get(String pathOrUrl, String... headers)
      throws IOException, InterruptedException {
    URI uri = URI.create(pathOrUrl.startsWith("http") ? pathOrUrl : fake.baseUrl() + pathOrUrl);
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + FakeGitHub.DEFAULT_TOKEN);
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void switchesOffTheJdkServersDelayedAckWait() {
    // Set when the class loaded, before this test's fake created the JVM's first HttpServer.
    assertThat(System.getProperty(FakeGitHub.NODELAY_PROPERTY)).isEqualTo("true");
  }

  @Test
  void servesPagesWithLinkHeadersAndEtags() throws Exception {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    repo.openPrs(5, PrSpec.files(2));

    HttpResponse<String> first = get("/repos/ACME/widgets/pulls?state=open&per_page=2");

    assertThat(first.statusCode()).isEqualTo(200);
    JsonNode items = JSON.readTree(first.body());
    assertThat(items).hasSize(2);
    assertThat(items.get(0).get("number").asInt()).isEqualTo(5);
    String link = first.headers().firstValue("link").orElseThrow();
    String base = fake.baseUrl() + "/repositories/" + repo.id() + "/pulls?state=open&per_page=2";
    assertThat(link)
        .isEqualTo("<" + base + "&page=2>; rel=\"next\", <" + base + "&page=3>; rel=\"last\"");
    assertThat(first.headers().firstValue("x-ratelimit-remaining")).hasValue("4999");
    assertThat(first.headers().firstValue("x-ratelimit-resource")).hasValue("core");

    HttpResponse<String> last = get(base + "&page=3");
    assertThat(JSON.readTree(last.body())).hasSize(1);
    assertThat(last.headers().firstValue("link").orElseThrow())
        .contains("rel=\"prev\"", "rel=\"first\"")
        .doesNotContain("rel=\"next\"");

    String etag = first.headers().firstValue("etag").orElseThrow();
    HttpResponse<String> again =
        get("/repos/acme/widgets/pulls?state=open&per_page=2", "If-None-Match", etag);
    assertThat(again.statusCode()).isEqualTo(304);
    assertThat(again.body()).isEmpty();
    assertThat(again.headers().firstValue("x-ratelimit-remaining")).hasValue("4998");
    assertThat(fake.rateLimitedRequests()).isEqualTo(2);
    assertThat(fake.requests(RequestKind.PULLS_LIST, 304)).isEqualTo(1);

    repo.pr(4).push();
    HttpResponse<String> changed =
        get("/repos/acme/widgets/pulls?state=open&per_page=2", "If-None-Match", etag);
    assertThat(changed.statusCode()).isEqualTo(200);
    assertThat(changed.headers().firstValue("etag")).isPresent().get().isNotEqualTo(etag);
  }

  @Test
  void comparesTwoCommitsInGitHubsShapeWithTheMergeBase() throws Exception {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    FakePr pr = repo.openPr(PrSpec.files(3));
    String branchedOff = pr.baseSha();
    pr.push();
    pr.moveBase();
    String basehead = pr.baseSha() + "..." + pr.headSha();

    HttpResponse<String> r = get("/repos/acme/widgets/compare/" + basehead);

    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode c = JSON.readTree(r.body());
    assertThat(c.get("url").asText())
        .isEqualTo(fake.baseUrl() + "/repos/acme/widgets/compare/" + basehead);
    assertThat(c.get("merge_base_commit").get("sha").asText())
        .isEqualTo(branchedOff)
        .isEqualTo(pr.mergeBaseSha());
    assertThat(c.get("base_commit").get("sha").asText()).isEqualTo(pr.baseSha());
    assertThat(c.get("merge_base_commit").get("commit").get("tree").has("sha")).isTrue();
    assertThat(c.get("status").asText()).isEqualTo("diverged");
    assertThat(c.get("ahead_by").asInt()).isEqualTo(2);
    assertThat(c.get("behind_by").asInt()).isEqualTo(1);
    assertThat(c.get("total_commits").asInt()).isEqualTo(2);
    assertThat(c.get("commits")).hasSize(2);
    assertThat(c.get("commits").get(1).get("sha").asText()).isEqualTo(pr.headSha());
    assertThat(c.get("files")).hasSize(3);
    assertThat(c.get("files").get(0).has("filename")).isTrue();
    assertThat(r.headers().firstValue("link")).isEmpty();

    // Paged: one commit a page, files only on the first, Link to the next.
    HttpResponse<String> paged = get("/repos/acme/widgets/compare/" + basehead + "?per_page=1");
    assertThat(JSON.readTree(paged.body()).get("commits")).hasSize(1);
    assertThat(paged.headers().firstValue("link").orElseThrow())
        .contains("/repositories/" + repo.id() + "/compare/" + basehead + "?per_page=1&page=2");

    // Same commits, same answer: the ETag holds, and a 304 costs nothing.
    String etag = r.headers().firstValue("etag").orElseThrow();
    int counted = fake.rateLimitedRequests();
    assertThat(get("/repos/acme/widgets/compare/" + basehead, "If-None-Match", etag).statusCode())
        .isEqualTo(304);
    assertThat(fake.rateLimitedRequests()).isEqualTo(counted);

    // A rebase branches the head off the new base; an older head keeps its own merge base.
    String oldHead = pr.headSha();
    pr.rebase();
    JsonNode rebased =
        JSON.readTree(get("/repos/acme/widgets/compare/main..." + pr.headSha()).body());
    assertThat(rebased.get("merge_base_commit").get("sha").asText()).isEqualTo(pr.baseSha());
    assertThat(rebased.get("status").asText()).isEqualTo("ahead");
    JsonNode old =
        JSON.readTree(get("/repos/acme/widgets/compare/" + pr.baseSha() + "..." + oldHead).body());
    assertThat(old.get("merge_base_commit").get("sha").asText()).isEqualTo(branchedOff);

    assertThat(get("/repos/acme/widgets/compare/" + pr.baseSha() + "..." + "0".repeat(40))
            .statusCode())
        .isEqualTo(404);
    assertThat(get("/repos/acme/widgets/compare/nonsense").statusCode()).isEqualTo(404);
    assertThat(fake.requests(RequestKind.COMPARE)).isEqualTo(7);
  }

  @Test
  void refusesBadCredentialsAndUnknownThings() throws Exception {
    fake.createRepo("acme", "widgets");
    HttpResponse<String> anonymous =
        http.send(
            HttpRequest.newBuilder(URI.create(fake.baseUrl() + "/repos/acme/widgets")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(anonymous.body()).get("message").asText())
        .isEqualTo("Bad credentials");

    assertThat(get("/repos/acme/nothing").statusCode()).isEqualTo(404);
    assertThat(get("/repos/acme/widgets/pulls/1").statusCode()).isEqualTo(404);
    assertThat(get("/nonsense").statusCode()).isEqualTo(404);
    assertThat(fake.requests(RequestKind.REPOSITORY, 401)).isEqualTo(1);
    assertThat(fake.totalRequests()).isEqualTo(4);
  }

  @Test
  void rateLimitIsRefusedUntilTheResetAndSecondaryLimitsCarryRetryAfter() throws Exception {
    fake.createRepo("acme", "widgets");
    fake.exhaustRateLimit();
    Instant reset = fake.rateLimitResetAt();

    HttpResponse<String> refused = get("/repos/acme/widgets");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).contains("API rate limit exceeded");
    assertThat(refused.headers().firstValue("x-ratelimit-remaining")).hasValue("0");
    assertThat(refused.headers().firstValue("x-ratelimit-reset"))
        .hasValue(Long.toString(reset.getEpochSecond()));

    now.set(reset);
    assertThat(get("/repos/acme/widgets").statusCode()).isEqualTo(200);

    fake.secondaryLimitNext(1, 429, Duration.ofSeconds(30));
    HttpResponse<String> secondary = get("/repos/acme/widgets");
    assertThat(secondary.statusCode()).isEqualTo(429);
    assertThat(secondary.headers().firstValue("retry-after")).hasValue("30");
    assertThat(secondary.body()).contains("secondary rate limit");

    fake.failNext(2, 502);
    assertThat(get("/repos/acme/widgets").statusCode()).isEqualTo(502);
    assertThat(get("/repos/acme/widgets").statusCode()).isEqualTo(502);
    assertThat(get("/repos/acme/widgets").statusCode()).isEqualTo(200);
    assertThat(fake.rateLimitedRequests()).isEqualTo(2);
  }

  @Test
  void aFailedPathAnswersItsStatusInEitherUrlFormUntilFaultsAreCleared() throws Exception {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    repo.openPrs(2);
    fake.failPath("/repos/acme/widgets/pulls/2", 404);
    fake.failPath("/repos/ACME/widgets/pulls/1/files", 502);

    assertThat(get("/repos/acme/widgets/pulls/2").statusCode()).isEqualTo(404);
    assertThat(get("/repositories/" + repo.id() + "/pulls/2").statusCode()).isEqualTo(404);
    assertThat(get("/repos/acme/widgets/pulls/2/files").statusCode()).isEqualTo(200);
    assertThat(get("/repos/acme/widgets/pulls/1").statusCode()).isEqualTo(200);
    HttpResponse<String> failed = get("/repos/acme/widgets/pulls/1/files?page=2");
    assertThat(failed.statusCode()).isEqualTo(502);
    assertThat(failed.body()).contains("Server Error");
    assertThat(failed.headers().firstValue("x-ratelimit-remaining")).isPresent();

    fake.clearFaults();
    assertThat(get("/repos/acme/widgets/pulls/2").statusCode()).isEqualTo(200);
    assertThat(get("/repos/acme/widgets/pulls/1/files").statusCode()).isEqualTo(200);
  }

  @Test
  void filesAreCappedAtThreeThousand() throws Exception {
    FakePr pr = fake.createRepo("acme", "huge").openPr(PrSpec.files(3_001).withMaxHunksPerFile(1));

    HttpResponse<String> last = get("/repos/acme/huge/pulls/1/files?per_page=100&page=30");
    HttpResponse<String> beyond = get("/repos/acme/huge/pulls/1/files?per_page=100&page=31");
    JsonNode full = JSON.readTree(get("/repos/acme/huge/pulls/1").body());

    assertThat(JSON.readTree(last.body())).hasSize(100);
    assertThat(last.headers().firstValue("link").orElseThrow()).doesNotContain("rel=\"next\"");
    assertThat(JSON.readTree(beyond.body())).isEmpty();
    assertThat(full.get("changed_files").asInt()).isEqualTo(3_001).isEqualTo(pr.changedFiles());
  }

  @Test
  void generatedContentsAreDeterministic() {
    InstantSource fixed = InstantSource.fixed(Instant.parse("2026-01-01T00:00:00Z"));
    try (FakeGitHub a = FakeGitHub.builder().clock(fixed).seed(7).start();
        FakeGitHub b = FakeGitHub.builder().clock(fixed).seed(7).start()) {
      FakePr x = a.createRepo("o", "r").openPrs(20).get(13);
      FakePr y = b.createRepo("o", "r").openPrs(20).get(13);
      assertThat(x.files()).isEqualTo(y.files());
      assertThat(x.headSha()).isEqualTo(y.headSha());
    }
  }

  @Test
  void pullRequestsChangeAsTestsSay() {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    FakePr pr = repo.openPr(PrSpec.files(12));
    String head = pr.headSha();
    String base = pr.baseSha();
    Instant updated = pr.updatedAt();

    pr.push();
    assertThat(pr.headSha()).isNotEqualTo(head);
    assertThat(pr.updatedAt()).isAfter(updated);
    assertThat(pr.files()).hasSize(12);

    Instant beforeMove = pr.updatedAt();
    pr.moveBase();
    assertThat(pr.baseSha()).isNotEqualTo(base);
    assertThat(pr.updatedAt()).isEqualTo(beforeMove);

    pr.close();
    assertThat(repo.openPulls()).isEmpty();
    pr.reopen();
    assertThat(repo.openPulls()).containsExactly(pr);
    assertThat(pr.files())
        .anySatisfy(f -> assertThat(f.binary()).isTrue())
        .anySatisfy(f -> assertThat(f.status()).isEqualTo("renamed"));
  }

  @Test
  void servesOversizedBodiesWithOrWithoutTheirLength() throws Exception {
    fake.createRepo("acme", "widgets").openPr(1);
    fake.oversizedBody("/repos/acme/widgets/pulls/1/files", 100_000, true);

    HttpResponse<String> declared = get("/repos/acme/widgets/pulls/1/files");
    assertThat(declared.statusCode()).isEqualTo(200);
    assertThat(declared.headers().firstValueAsLong("content-length")).hasValue(100_000);
    assertThat(declared.body()).hasSize(100_000).startsWith("[ ").endsWith(" ]");
    assertThat(JSON.readTree(declared.body()).isArray()).isTrue();

    fake.oversizedBody("/repos/acme/widgets/pulls/1/files", 70_000, false);
    HttpResponse<String> chunked = get("/repos/acme/widgets/pulls/1/files");
    assertThat(chunked.headers().firstValue("content-length")).isEmpty();
    assertThat(chunked.body()).hasSize(70_000);

    fake.clearOversizedBodies();
    assertThat(JSON.readTree(get("/repos/acme/widgets/pulls/1/files").body()).size()).isEqualTo(1);
  }
}
