package dev.changesync.engine.github;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.lease.testing.MutableClock;
import dev.changesync.testkit.github.FakeApp;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeInstallation;
import dev.changesync.testkit.github.RecordedRequest;
import dev.changesync.testkit.github.RequestKind;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A GitHub App on many accounts: installations found per owner, one token per installation. */
class HttpGitHubInstallationsTest {

  private static final String APP_ID = "4242";

  private static final FakeApp app = FakeApp.generate(APP_ID, 1);

  private final MutableClock clock = new MutableClock();
  private FakeGitHub fake;
  private FakeInstallation acme;
  private FakeInstallation globex;

  @BeforeEach
  void start() {
    fake = FakeGitHub.builder().clock(clock).start();
    fake.registerApp(app);
    acme = fake.install(app, "acme", 101);
    globex = fake.install(app, "globex", 202);
    fake.createRepo("acme", "widgets").openPrs(3);
    fake.createRepo("acme", "gadgets").openPrs(2);
    fake.createRepo("globex", "rockets").openPrs(1);
    fake.createRepo("initech", "printers");
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  private HttpGitHub client(GitHubAuth auth) {
    return HttpGitHub.builder(GitHubSettings.builder(auth).baseUrl(fake.baseUrl()).build())
        .clock(clock)
        .sleeper(d -> clock.advance(d))
        .build();
  }

  private List<String> principalsOf(RequestKind kind, String pathPrefix) {
    return fake.requestLog().stream()
        .filter(r -> r.kind() == kind && r.path().startsWith(pathPrefix))
        .map(r -> r.principal().orElse("none"))
        .distinct()
        .toList();
  }

  @Test
  void eachOwnersRepositoriesAreReadWithItsOwnInstallationsToken() {
    HttpGitHub gitHub = client(GitHubAuth.app(APP_ID, app.privateKeyPem()));

    assertThat(gitHub.repository("acme", "widgets").name()).isEqualTo("widgets");
    assertThat(gitHub.repository("ACME", "gadgets").name()).isEqualTo("gadgets");
    assertThat(gitHub.repository("globex", "rockets").name()).isEqualTo("rockets");
    gitHub.openPulls("acme", "widgets", page -> true);
    gitHub.openPulls("globex", "rockets", page -> true);

    assertThat(principalsOf(RequestKind.REPOSITORY, "/repos/acme/"))
        .containsExactly("installation:101");
    assertThat(principalsOf(RequestKind.REPOSITORY, "/repos/ACME/"))
        .containsExactly("installation:101");
    assertThat(principalsOf(RequestKind.REPOSITORY, "/repos/globex/"))
        .containsExactly("installation:202");
    // Discovery once per owner, one token per installation, both reused.
    assertThat(fake.requests(RequestKind.INSTALLATION, 200)).isEqualTo(2);
    assertThat(fake.requests(RequestKind.ACCESS_TOKEN, 201)).isEqualTo(2);
    assertThat(fake.requestLog().stream().filter(r -> r.status() >= 400)).isEmpty();
    assertThat(gitHub.credential("acme", "anything")).contains("installation:4242:101");
    assertThat(gitHub.credential("globex", "rockets")).contains("installation:4242:202");
    assertThat(gitHub.credential("initech", "printers")).isEmpty();
  }

  @Test
  void eachInstallationHasItsOwnRateLimitAndCacheIdentity() {
    HttpGitHub gitHub = client(GitHubAuth.app(APP_ID, app.privateKeyPem()));
    globex.setRateLimit(1000, 500, clock.instant().plus(Duration.ofMinutes(30)));

    gitHub.repository("acme", "widgets");
    gitHub.repository("globex", "rockets");

    assertThat(gitHub.credentialRateLimits())
        .extracting(CredentialRateLimit::credential, c -> c.rateLimit().remaining())
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("installation:4242:101", 4999),
            org.assertj.core.groups.Tuple.tuple("installation:4242:202", 499));
    assertThat(acme.rateLimitRemaining()).isEqualTo(4999);

    // A repeated read is conditional, per installation: 304, no rate limit used.
    gitHub.repository("acme", "widgets");
    assertThat(fake.requests(RequestKind.REPOSITORY, 304)).isEqualTo(1);
    assertThat(acme.rateLimitRemaining()).isEqualTo(4999);
  }

  @Test
  void anOwnerWithoutTheAppIsAClearNotFound() {
    HttpGitHub gitHub = client(GitHubAuth.app(APP_ID, app.privateKeyPem()));

    assertThatThrownBy(() -> gitHub.repository("initech", "printers"))
        .isInstanceOf(GitHubException.class)
        .hasMessageContaining("GitHub App 4242 is not installed on initech")
        .satisfies(e -> assertThat(((GitHubException) e).status()).hasValue(404));
    assertThat(fake.requests(RequestKind.REPOSITORY)).isZero();
  }

  @Test
  void anInstallationTokenCannotReadAnotherInstallationsRepository() {
    HttpGitHub fixed = client(GitHubAuth.app(APP_ID, 101, app.privateKeyPem()));

    assertThat(fixed.repository("acme", "widgets").name()).isEqualTo("widgets");
    assertThatThrownBy(() -> fixed.repository("globex", "rockets"))
        .isInstanceOf(GitHubException.class)
        .satisfies(e -> assertThat(((GitHubException) e).status()).hasValue(404));
    // A fixed installation never looks installations up.
    assertThat(fake.requests(RequestKind.INSTALLATION)).isZero();
    assertThat(fixed.credential("globex", "rockets")).contains("installation:4242:101");
  }

  @Test
  void theOwnersInstallationIsLookedUpAgainAfterTheCacheTimeAndAfterA404() {
    HttpGitHub gitHub = client(GitHubAuth.app(APP_ID, app.privateKeyPem()));
    gitHub.repository("acme", "widgets");
    assertThat(fake.requests(RequestKind.INSTALLATION)).isEqualTo(1);

    clock.advance(Duration.ofMinutes(59));
    gitHub.repository("acme", "gadgets");
    assertThat(fake.requests(RequestKind.INSTALLATION)).isEqualTo(1);

    clock.advance(Duration.ofMinutes(2));
    gitHub.repository("acme", "gadgets");
    assertThat(fake.requests(RequestKind.INSTALLATION)).isEqualTo(2);

    // The app is moved: acme uninstalled and installed again under a new id.
    fake.uninstall(acme);
    fake.install(app, "acme", 303);
    gitHub.repository("acme", "widgets");

    List<RecordedRequest> reads =
        fake.requestLog().stream()
            .filter(r -> r.kind() == RequestKind.REPOSITORY && r.status() == 200)
            .toList();
    assertThat(reads.get(reads.size() - 1).principal()).contains("installation:303");
    assertThat(gitHub.credential("acme", "widgets")).contains("installation:4242:303");
  }

  @Test
  void tokensAreRenewedPerInstallationBeforeTheyExpire() {
    HttpGitHub gitHub = client(GitHubAuth.app(APP_ID, app.privateKeyPem()));
    gitHub.repository("acme", "widgets");
    gitHub.repository("globex", "rockets");
    assertThat(fake.issuedInstallationTokens()).isEqualTo(2);

    clock.advance(Duration.ofMinutes(30));
    gitHub.repository("acme", "widgets");
    assertThat(fake.issuedInstallationTokens()).isEqualTo(2);

    clock.advance(Duration.ofMinutes(26)); // within the refresh margin of the hour
    gitHub.repository("acme", "widgets");
    assertThat(fake.issuedInstallationTokens()).isEqualTo(3);
    assertThat(fake.requestLog().stream().filter(r -> r.status() == 401)).isEmpty();
  }
}
