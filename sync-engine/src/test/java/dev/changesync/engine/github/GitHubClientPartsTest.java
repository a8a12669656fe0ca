package dev.changesync.engine.github;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.engine.config.PemKeys;
import dev.changesync.testkit.github.FakeApp;
import dev.changesync.testkit.github.FakeGitHub;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Link headers, PEM keys and settings validation. */
class GitHubClientPartsTest {

  @Test
  void findsLinkRelations() {
    String github =
        "<https://api.github.com/repositories/1/pulls?page=2>; rel=\"next\", "
            + "<https://api.github.com/repositories/1/pulls?page=5>; rel=\"last\"";
    assertThat(LinkHeader.find(github, "next"))
        .hasValue("https://api.github.com/repositories/1/pulls?page=2");
    assertThat(LinkHeader.find(github, "last"))
        .hasValue("https://api.github.com/repositories/1/pulls?page=5");
    assertThat(LinkHeader.find(github, "prev")).isEmpty();
    assertThat(LinkHeader.find("</a?page=3>;rel=next", "next")).hasValue("/a?page=3");
    assertThat(LinkHeader.find("</x>; title=\"n\"; rel=\"prev next\"", "next")).hasValue("/x");
    assertThat(LinkHeader.find("</x>; REL=\"Next\"", "next")).hasValue("/x");
    assertThat(LinkHeader.find(null, "next")).isEmpty();
    assertThat(LinkHeader.find("garbage", "next")).isEmpty();
  }

  @Test
  void readsPkcs1AndPkcs8KeysAndNeverShowsThem() {
    try (FakeGitHub fake = FakeGitHub.start()) {
      FakeApp app = fake.registerApp("1", 2);
      assertThat(PemKeys.privateKey(app.privateKeyPem()))
          .isEqualTo(PemKeys.privateKey(app.privateKeyPkcs8Pem()));
      assertThat(GitHubAuth.app("1", 2, app.privateKeyPem()).toString())
          .isEqualTo("App[appId=1, installationId=2, privateKey=***]");
    }
    String garbage =
        "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0IGJ5dGVz\n-----END RSA PRIVATE KEY-----";
    assertThatThrownBy(() -> PemKeys.privateKey(garbage))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("c2VjcmV0");
    assertThatThrownBy(() -> PemKeys.privateKey("not a key"))
        .hasMessageContaining("no PEM private key found");
    String encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----";
    assertThatThrownBy(() -> PemKeys.privateKey(encrypted)).hasMessageContaining("encrypted");
  }

  @Test
  void settingsNormaliseTheBaseUrlAndHideTheToken() {
    GitHubSettings s =
        GitHubSettings.builder(GitHubAuth.token("ghp_hidden"))
            .baseUrl("https://GHE.example.com/api/v3/")
            .build();

    assertThat(s.baseUrl()).isEqualTo(URI.create("https://ghe.example.com/api/v3"));
    assertThat(s.toString()).doesNotContain("ghp_hidden").contains("Token[***]");
    assertThat(GitHubSettings.of(GitHubAuth.token("t")).baseUrl())
        .isEqualTo(GitHubSettings.DEFAULT_BASE_URL);
    assertThat(s.toBuilder().build()).isEqualTo(s);
    assertThat(GitHubSettings.of(GitHubAuth.token("t")).userAgent()).startsWith("changesync/");
  }

  @Test
  void settingsRejectBadValuesNamingThem() {
    GitHubAuth auth = GitHubAuth.token("t");
    assertThatThrownBy(() -> GitHubSettings.builder(auth).baseUrl("ftp://x").build())
        .hasMessageContaining("baseUrl");
    assertThatThrownBy(() -> GitHubSettings.builder(auth).baseUrl("https://x/api?q=1").build())
        .hasMessageContaining("baseUrl");
    assertThatThrownBy(() -> GitHubSettings.builder(auth).pageSize(101).build())
        .hasMessageContaining("pageSize");
    assertThatThrownBy(() -> GitHubSettings.builder(auth).maxRetries(-1).build())
        .hasMessageContaining("maxRetries");
    assertThatThrownBy(
            () ->
                GitHubSettings.builder(auth)
                    .retryBaseDelay(Duration.ofSeconds(10))
                    .retryMaxDelay(Duration.ofSeconds(1))
                    .build())
        .hasMessageContaining("retryMaxDelay");
    assertThatThrownBy(() -> GitHubSettings.builder(auth).requestTimeout(Duration.ZERO).build())
        .hasMessageContaining("requestTimeout");
    assertThatThrownBy(() -> GitHubAuth.token(" ")).hasMessageContaining("token");
    assertThatThrownBy(() -> GitHubAuth.token("abc\n")).hasMessageContaining("newline");
  }
}
