package dev.changesync.engine.github;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.changesync.engine.github.GitHub.ListingStats;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.testkit.github.FakeApp;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.RecordedRequest;
import dev.changesync.testkit.github.RequestKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** GitHub App authentication against the fake, and that no secret reaches logs or messages. */
class HttpGitHubAppAuthTest {

  private static final String APP_ID = "12345";
  private static final long INSTALLATION = 777;

  // Key generation is the slow part: one app for the class, a fresh fake per test.
  private static FakeGitHub keys;
  private static FakeApp app;

  private final MutableClock clock = new MutableClock();
  private FakeGitHub fake;

  @BeforeAll
  static void generateKeys() {
    keys = FakeGitHub.start();
    app = keys.registerApp(APP_ID, INSTALLATION);
  }

  @AfterAll
  static void closeKeys() {
    keys.close();
  }

  @BeforeEach
  void start() {
    fake = FakeGitHub.builder().clock(clock).start();
    fake.registerApp(app);
    fake.createRepo("acme", "widgets").openPrs(150);
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

  @Test
  void aJwtBuysAnInstallationTokenThatIsReusedUntilShortlyBeforeItExpires() {
    HttpGitHub gitHub = client(GitHubAuth.app(APP_ID, INSTALLATION, app.privateKeyPem()));

    gitHub.repository("acme", "widgets");
    ListingStats first = gitHub.openPulls("acme", "widgets", page -> true);
    clock.advance(Duration.ofMinutes(54));
    gitHub.pull("acme", "widgets", 3);

    assertThat(fake.issuedInstallationTokens()).isEqualTo(1);
    List<RecordedRequest> log = fake.requestLog();
    assertThat(log.get(0).kind()).isEqualTo(RequestKind.ACCESS_TOKEN);
    assertThat(log.get(0).status()).isEqualTo(201);
    assertThat(log.get(0).principal()).hasValue("app:" + APP_ID);
    assertThat(log.subList(1, log.size()))
        .allSatisfy(r -> assertThat(r.principal()).hasValue("installation:" + INSTALLATION));

    clock.advance(Duration.ofMinutes(2)); // 56 minutes: within 5 minutes of the hour's expiry
    ListingStats second = gitHub.openPulls("acme", "widgets", page -> true);

    assertThat(fake.issuedInstallationTokens()).isEqualTo(2);
    assertThat(first.notModifiedPages()).isZero();
    // The cache belongs to the installation, not to one of its tokens.
    assertThat(second.notModifiedPages()).isEqualTo(2);
  }

  @Test
  void aRevokedInstallationTokenIsRenewedOnceAndTheCallRetried() {
    HttpGitHub gitHub = client(GitHubAuth.app(APP_ID, INSTALLATION, app.privateKeyPem()));
    gitHub.repository("acme", "widgets");
    fake.revokeInstallationTokens();

    assertThat(gitHub.pull("acme", "widgets", 1).number()).isEqualTo(1);

    assertThat(fake.requests(RequestKind.PULL, 401)).isEqualTo(1);
    assertThat(fake.requests(RequestKind.PULL, 200)).isEqualTo(1);
    assertThat(fake.issuedInstallationTokens()).isEqualTo(2);
  }

  @Test
  void aPersistent401AfterRenewalFails() {
    HttpGitHub gitHub = client(GitHubAuth.app(APP_ID, INSTALLATION, app.privateKeyPem()));
    gitHub.repository("acme", "widgets");
    fake.installationTokenTtl(Duration.ZERO); // every new token is dead on arrival
    fake.revokeInstallationTokens();

    assertThatThrownBy(() -> gitHub.repository("acme", "widgets"))
        .isInstanceOfSatisfying(
            GitHubException.class, e -> assertThat(e.status()).hasValue(401));
    assertThat(fake.requests(RequestKind.REPOSITORY, 401)).isEqualTo(2);
  }

  @Test
  void aKeyGitHubDoesNotKnowIsRefused() {
    FakeApp stranger = keys.registerApp("999", 5);
    HttpGitHub gitHub = client(GitHubAuth.app(APP_ID, INSTALLATION, stranger.privateKeyPem()));

    assertThatThrownBy(() -> gitHub.repository("acme", "widgets"))
        .isInstanceOfSatisfying(
            GitHubException.class,
            e -> {
              assertThat(e.status()).hasValue(401);
              assertThat(e.getMessage()).contains("access_tokens");
            });
    assertThat(fake.requests(RequestKind.ACCESS_TOKEN)).isEqualTo(1);
    assertThat(fake.requests(RequestKind.REPOSITORY)).isZero();
  }

  @Test
  void acceptsPkcs8AndKeyFiles(@TempDir Path dir) throws Exception {
    Path pem = dir.resolve("app.pem");
    Files.writeString(pem, app.privateKeyPem());

    assertThat(
            client(GitHubAuth.app(APP_ID, INSTALLATION, app.privateKeyPkcs8Pem()))
                .repository("acme", "widgets")
                .name())
        .isEqualTo("widgets");
    assertThat(client(GitHubAuth.app(APP_ID, INSTALLATION, pem)).repository("acme", "widgets").id())
        .isPositive();
    assertThat(GitHubAuth.app(APP_ID, INSTALLATION, pem))
        .isEqualTo(GitHubAuth.app(APP_ID, INSTALLATION, app.privateKeyPkcs8Pem()));
  }

  @Test
  void concurrentFirstCallsBuyOneToken() throws Exception {
    HttpGitHub gitHub = client(GitHubAuth.app(APP_ID, INSTALLATION, app.privateKeyPem()));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<GhPull>> calls = new ArrayList<>();
      for (int i = 1; i <= 16; i++) {
        int n = i;
        calls.add(pool.submit(() -> gitHub.pull("acme", "widgets", n)));
      }
      for (Future<GhPull> call : calls) {
        call.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(fake.issuedInstallationTokens()).isEqualTo(1);
  }

  @Test
  void noTokenKeyOrJwtReachesLogsMessagesOrToString() {
    Logger logger = (Logger) LoggerFactory.getLogger(HttpGitHub.class);
    Level level = logger.getLevel();
    boolean additive = logger.isAdditive();
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(Level.DEBUG);
    logger.setAdditive(false);
    List<String> texts = new ArrayList<>();
    try {
      GitHubAuth.App auth = GitHubAuth.app(APP_ID, INSTALLATION, app.privateKeyPem());
      HttpGitHub gitHub = client(auth);
      HttpGitHub tokenClient = client(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN));
      gitHub.repository("acme", "widgets");
      fake.revokeInstallationTokens(); // a 401, a renewal
      fake.failNext(1, 502); // a retry
      fake.secondaryLimitNext(1, 403, Duration.ofSeconds(5)); // a rate-limit wait
      gitHub.openPulls("acme", "widgets", page -> true);
      tokenClient.openPulls("acme", "widgets", page -> true);
      fake.failNext(10, 500);
      try {
        tokenClient.repository("acme", "widgets");
      } catch (GitHubException e) {
        texts.add(e.toString());
      }
      HttpGitHub wrongToken = client(GitHubAuth.token("ghp_wrong000000000000000000000000000000x"));
      try {
        wrongToken.repository("acme", "widgets");
      } catch (GitHubException e) {
        texts.add(e.toString());
      }
      texts.add(auth.toString());
      texts.add(gitHub.toString());
      texts.add(gitHub.settings().toString());
      texts.add(tokenClient.settings().toString());
    } finally {
      logger.detachAppender(appender);
      logger.setLevel(level);
      logger.setAdditive(additive);
    }
    for (ILoggingEvent event : appender.list) {
      texts.add(event.getFormattedMessage());
      if (event.getThrowableProxy() != null) {
        texts.add(ThrowableProxyUtil.asString(event.getThrowableProxy()));
      }
    }

    assertThat(appender.list).hasSizeGreaterThan(10); // the scenario did log
    String keyBody = app.privateKeyPem().lines().skip(1).findFirst().orElseThrow();
    assertThat(texts)
        .allSatisfy(
            t ->
                assertThat(t)
                    .doesNotContain(FakeGitHub.DEFAULT_TOKEN)
                    .doesNotContain("ghp_wrong")
                    .doesNotContain("ghs_")
                    .doesNotContain("eyJ")
                    .doesNotContain("Bearer")
                    .doesNotContain(keyBody));
  }
}
