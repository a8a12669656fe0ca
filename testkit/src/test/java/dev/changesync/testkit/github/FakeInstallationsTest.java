package dev.changesync.testkit.github;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The fake's App installation endpoints, spoken to over HTTP as GitHub's clients do. */
class FakeInstallationsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final AtomicReference<Instant> now =
      new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
  private final FakeGitHub fake = FakeGitHub.builder().clock(now::get).start();
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    fake.close();
  }

  private HttpResponse<String> send(String method, String pathOrUrl, String bearer)
      throws Exception {
    URI uri = URI.create(pathOrUrl.startsWith("http") ? pathOrUrl : fake.baseUrl() + pathOrUrl);
    return http.send(
        HttpRequest.newBuilder(uri)
            .header("Authorization", "Bearer " + bearer)
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private String jwt(FakeApp app) throws Exception {
    String pem =
        app.privateKeyPkcs8Pem()
            .replaceAll("-----[A-Z ]+-----", "")
            .replaceAll("\\s", "");
    PrivateKey key =
        KeyFactory.getInstance("RSA")
            .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
    long t = now.get().getEpochSecond();
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String input =
        b64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
            + "."
            + b64.encodeToString(
                ("{\"iat\":" + (t - 60) + ",\"exp\":" + (t + 540) + ",\"iss\":\"" + app.appId()
                        + "\"}")
                    .getBytes(StandardCharsets.UTF_8));
    Signature signer = Signature.getInstance("SHA256withRSA");
    signer.initSign(key);
    signer.update(input.getBytes(StandardCharsets.US_ASCII));
    return input + "." + b64.encodeToString(signer.sign());
  }

  private String token(FakeApp app, long installationId) throws Exception {
    HttpResponse<String> r =
        send("POST", "/app/installations/" + installationId + "/access_tokens", jwt(app));
    assertThat(r.statusCode()).isEqualTo(201);
    return JSON.readTree(r.body()).get("token").asText();
  }

  @Test
  void installationsAreFoundListedAndScopedWithTheirOwnRateLimit() throws Exception {
    FakeApp app = fake.registerApp("55", 1);
    fake.install(app, "acme", 101);
    fake.install(app, "globex", 202);
    fake.install(app, "initech", 303);
    FakeRepo widgets = fake.createRepo("acme", "widgets");
    fake.createRepo("acme", "gadgets");
    fake.createRepo("acme", "tools");
    fake.createRepo("globex", "rockets");

    HttpResponse<String> found = send("GET", "/repos/ACME/widgets/installation", jwt(app));
    assertThat(found.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(found.body()).get("id").asLong()).isEqualTo(101);
    assertThat(JSON.readTree(found.body()).get("account").get("login").asText()).isEqualTo("acme");
    assertThat(send("GET", "/repos/nobody/x/installation", jwt(app)).statusCode()).isEqualTo(404);
    assertThat(send("GET", "/repos/acme/widgets/installation", "nope").statusCode())
        .isEqualTo(401);

    // The app's installations, two a page, by the Link header.
    HttpResponse<String> page1 = send("GET", "/app/installations?per_page=2", jwt(app));
    assertThat(JSON.readTree(page1.body()).findValuesAsText("login"))
        .containsExactly("acme", "globex");
    String next = page1.headers().firstValue("link").orElseThrow();
    String nextUrl = next.substring(1, next.indexOf('>'));
    HttpResponse<String> page2 = send("GET", nextUrl, jwt(app));
    assertThat(JSON.readTree(page2.body()).findValuesAsText("login")).containsExactly("initech");

    // A token of acme's installation lists acme's repositories and reads nothing else.
    String acme = token(app, 101);
    widgets.openPrs(1);
    fake.installation(101).removeRepository(fake.repo("acme", "tools"));
    HttpResponse<String> repos = send("GET", "/installation/repositories?per_page=1", acme);
    JsonNode body = JSON.readTree(repos.body());
    assertThat(body.get("total_count").asInt()).isEqualTo(2);
    assertThat(body.get("repositories")).hasSize(1);
    assertThat(repos.headers().firstValue("link")).hasValueSatisfying(l -> l.contains("next"));
    assertThat(send("GET", "/repos/acme/widgets", acme).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/repos/acme/tools", acme).statusCode()).isEqualTo(404);
    assertThat(send("GET", "/repos/globex/rockets", acme).statusCode()).isEqualTo(404);
    assertThat(send("GET", "/repos/globex/rockets", token(app, 202)).statusCode()).isEqualTo(200);

    // Its own budget, with GitHub's headers.
    HttpResponse<String> read = send("GET", "/repos/acme/widgets/pulls", acme);
    assertThat(read.headers().firstValue("x-ratelimit-limit")).contains("5000");
    assertThat(read.headers().firstValue("x-ratelimit-resource")).contains("core");
    assertThat(read.headers().firstValue("x-ratelimit-used")).isPresent();
    int left = fake.installation(101).rateLimitRemaining();
    assertThat(read.headers().firstValue("x-ratelimit-remaining")).contains(Integer.toString(left));
    assertThat(fake.installation(202).rateLimitRemaining()).isEqualTo(4999);
    fake.installation(101).exhaustRateLimit();
    assertThat(send("GET", "/repos/acme/widgets", acme).statusCode()).isEqualTo(403);
    assertThat(send("GET", "/repos/globex/rockets", token(app, 202)).statusCode()).isEqualTo(200);
    now.set(fake.installation(101).rateLimitResetAt());
    assertThat(send("GET", "/repos/acme/widgets", token(app, 101)).statusCode()).isEqualTo(200);
  }
}
