package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.github.HttpGitHub;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeApp;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeInstallation;
import dev.changesync.testkit.github.RecordedRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Rate limits per credential as a budget shared through PostgreSQL: a GitHub App on two accounts,
 * installation A used up as one worker saw it, and another worker then skips A's repositories —
 * no lease claimed, no request sent — until A's reset, while B's go on.
 */
class SharedRateLimitTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String APP_ID = "777";
  private static final FakeApp app = FakeApp.generate(APP_ID, 1);

  private SyncFixture fx;
  private FakeInstallation acme;
  private FakeInstallation globex;
  private long widgets;
  private long rockets;

  @BeforeEach
  void setUp() throws Exception {
    fx = new SyncFixture(db);
    fx.fake.registerApp(app);
    acme = fx.fake.install(app, "acme", 101);
    globex = fx.fake.install(app, "globex", 202);
    widgets = fx.track(fx.fake.createRepo("acme", "widgets"));
    rockets = fx.track(fx.fake.createRepo("globex", "rockets"));
    fx.fake.repo("acme", "widgets").openPrs(2);
    fx.fake.repo("globex", "rockets").openPrs(2);
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  /** A worker process's own client: installations found per owner, rate-limit waits refused. */
  private HttpGitHub appClient() {
    return HttpGitHub.builder(
            GitHubSettings.builder(GitHubAuth.app(APP_ID, app.privateKeyPem()))
                .baseUrl(fx.fake.baseUrl())
                .maxRateLimitWait(Duration.ofMinutes(1))
                .build())
        .clock(fx.clock)
        .sleeper(fx.clock::advance)
        .build();
  }

  /** The last fencing token issued on the repository's fetch lease: it grows with every claim. */
  private long claims(long repositoryId) {
    return fx.jdbi.withHandle(
        h ->
            h.createQuery(
                    "select coalesce(max(token), 0) from lease where resource = :r and lane = 'fetch'")
                .bind("r", Lanes.resource(repositoryId))
                .mapTo(Long.class)
                .one());
  }

  private List<RecordedRequest> requestsAs(String principal, Instant since) {
    return fx.fake.requestLog().stream()
        .filter(r -> r.principal().equals(Optional.of(principal)) && !r.at().isBefore(since))
        .toList();
  }

  private Map<String, Object> budget(String credential) {
    return fx.jdbi.withHandle(
        h ->
            h.createQuery("select * from github_credential_rate_limit where credential = :c")
                .bind("c", credential)
                .mapToMap()
                .one());
  }

  @Test
  void anExhaustedInstallationsRepositoriesWaitForItsResetWhileOthersGoOn() {
    Worker first = fx.worker("first", SyncFixture.SETTINGS, appClient());
    assertThat(fx.drain(first)).hasSize(2).allMatch(PassResult::succeeded);
    assertThat(fx.state(widgets)).containsEntry("github_credential", "installation:777:101");
    assertThat(fx.state(rockets)).containsEntry("github_credential", "installation:777:202");
    assertThat(budget("installation:777:202")).containsEntry("remaining", 4998);

    // The first worker finds installation A used up: its fetch fails, and says so to all.
    acme.exhaustRateLimit();
    Instant resetAt = acme.rateLimitResetAt();
    fx.clock.advance(Duration.ofMinutes(2));
    fx.requestFetch(widgets);
    fx.clock.advance(Duration.ofMinutes(1));
    assertThat(fx.drain(first)).singleElement().satisfies(p -> assertThat(p.succeeded()).isFalse());
    assertThat(budget("installation:777:101"))
        .containsEntry("remaining", 0)
        .containsEntry("request_limit", 5000);

    // A second worker, whose own client has seen nothing yet: A's repository is not even claimed
    // (its fetch lane's own backoff is lifted, so only the shared budget holds it back).
    fx.jdbi.useHandle(
        h -> h.execute("update repository_sync_state set fetch_retry_after = null"));
    fx.requestFetch(widgets);
    fx.requestFetch(rockets);
    fx.clock.advance(Duration.ofMinutes(1));
    long widgetClaims = claims(widgets);
    Instant mark = fx.clock.instant();
    Worker second = fx.worker("second", SyncFixture.SETTINGS, appClient());
    List<PassResult> passes = fx.drain(second);

    assertThat(passes).singleElement().satisfies(p -> {
      assertThat(p.repositoryId()).isEqualTo(rockets);
      assertThat(p.succeeded()).isTrue();
    });
    assertThat(claims(widgets)).isEqualTo(widgetClaims);
    assertThat(requestsAs("installation:101", mark)).isEmpty();
    assertThat(requestsAs("installation:202", mark)).isNotEmpty();

    // After A's reset (database time: the injected clock) its repository is picked again.
    fx.clock.advance(Duration.between(fx.clock.instant(), resetAt).plusSeconds(1));
    assertThat(fx.drain(second))
        .anySatisfy(p -> {
          assertThat(p.repositoryId()).isEqualTo(widgets);
          assertThat(p.succeeded()).isTrue();
        });
    assertThat(claims(widgets)).isGreaterThan(widgetClaims);
    assertThat(requestsAs("installation:101", mark)).isNotEmpty();
  }

  @Test
  void aSecondaryLimitHoldsBackOnlyThatCredential() {
    Worker first = fx.worker("first", SyncFixture.SETTINGS, appClient());
    assertThat(fx.drain(first)).hasSize(2).allMatch(PassResult::succeeded);

    // A secondary limit with a retry-after longer than the client waits: the pass fails.
    fx.fake.secondaryLimitNext(1, 403, Duration.ofMinutes(10));
    fx.clock.advance(Duration.ofMinutes(2));
    fx.requestFetch(widgets);
    fx.clock.advance(Duration.ofMinutes(1));
    assertThat(fx.drain(first)).singleElement().satisfies(p -> assertThat(p.succeeded()).isFalse());
    assertThat(budget("installation:777:101").get("secondary_until")).isNotNull();

    fx.jdbi.useHandle(
        h -> h.execute("update repository_sync_state set fetch_retry_after = null"));
    fx.requestFetch(widgets);
    fx.requestFetch(rockets);
    fx.clock.advance(Duration.ofMinutes(1));
    Worker second = fx.worker("second", SyncFixture.SETTINGS, appClient());
    assertThat(fx.drain(second)).singleElement().satisfies(p -> {
      assertThat(p.repositoryId()).isEqualTo(rockets);
    });

    assertThat(requestsAs("installation:101", fx.clock.instant().minusSeconds(50))).isEmpty();
    fx.clock.advance(Duration.ofMinutes(10));
    assertThat(fx.drain(second)).anySatisfy(p -> assertThat(p.repositoryId()).isEqualTo(widgets));
  }
}
