package dev.changesync.engine.github;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.engine.github.GitHubListener.WaitReason;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.RequestKind;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Rate limits, secondary limits, 5xx, timeouts, cancellation and malformed responses. */
class HttpGitHubRetryTest {

  private final MutableClock clock = new MutableClock();
  private final List<String> events = new CopyOnWriteArrayList<>();
  private FakeGitHub fake;
  private RecordingSleeper sleeper;

  @BeforeEach
  void start() {
    fake = FakeGitHub.builder().clock(clock).start();
    fake.createRepo("acme", "widgets").openPrs(3);
    sleeper = new RecordingSleeper(clock, fake::totalRequests);
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  private HttpGitHub client() {
    return client(
        GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
            .requestTimeout(Duration.ofSeconds(5)));
  }

  private HttpGitHub client(GitHubSettings.Builder settings) {
    return HttpGitHub.builder(
            settings.baseUrl(fake.baseUrl()).build())
        .clock(clock)
        .sleeper(sleeper)
        .random(new Random(1))
        .listener(
            new GitHubListener() {
              @Override
              public void onResponse(
                  dev.changesync.engine.github.RequestKind kind, int status, Duration took) {
                events.add(kind + " " + status);
              }

              @Override
              public void onNetworkError(
                  dev.changesync.engine.github.RequestKind kind, Exception error, Duration took) {
                events.add(kind + " " + error.getClass().getSimpleName());
              }

              @Override
              public void onWait(WaitReason reason, Duration duration) {
                events.add("wait " + reason + " " + duration);
              }
            })
        .build();
  }

  @Test
  void whenTheRateLimitIsUsedUpTheClientWaitsForTheResetWithoutCalling() {
    Instant reset = clock.instant().plus(Duration.ofMinutes(10));
    fake.setRateLimit(5_000, 1, reset);
    HttpGitHub gitHub = client();
    gitHub.repository("acme", "widgets"); // uses the last request; the client sees remaining 0
    assertThat(gitHub.rateLimit().get().remaining()).isZero();
    assertThat(gitHub.rateLimit().get().resetAt()).isEqualTo(reset);

    GhPull pull = gitHub.pull("acme", "widgets", 2);

    assertThat(pull.number()).isEqualTo(2);
    assertThat(sleeper.waits())
        .containsExactly(new RecordingSleeper.Wait(Duration.ofMinutes(10).plusSeconds(1), 1));
    assertThat(fake.requests(RequestKind.PULL, 403)).isZero();
    assertThat(fake.requests(RequestKind.PULL, 200)).isEqualTo(1);
    assertThat(events).contains("wait RATE_LIMIT_RESET PT10M1S");
    assertThat(gitHub.rateLimit().get().remaining()).isEqualTo(4_999);
  }

  @Test
  void aRateLimitRefusalIsWaitedOutUntilTheReset() {
    fake.exhaustRateLimit();
    Duration untilReset = Duration.between(clock.instant(), fake.rateLimitResetAt());

    GhRepository repo = client().repository("acme", "widgets");

    assertThat(repo.name()).isEqualTo("widgets");
    assertThat(sleeper.durations()).containsExactly(untilReset.plusSeconds(1));
    assertThat(fake.requests(RequestKind.REPOSITORY, 403)).isEqualTo(1);
    assertThat(fake.requests(RequestKind.REPOSITORY, 200)).isEqualTo(1);
  }

  @Test
  void aWaitLongerThanAllowedIsRefusedWithTheRetryTime() {
    fake.exhaustRateLimit();
    Instant reset = fake.rateLimitResetAt();
    HttpGitHub gitHub =
        client(
            GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                .maxRateLimitWait(Duration.ofMinutes(5)));

    assertThatThrownBy(() -> gitHub.repository("acme", "widgets"))
        .isInstanceOfSatisfying(
            GitHubException.class,
            e -> {
              assertThat(e.isRateLimited()).isTrue();
              assertThat(e.retryAt()).hasValue(reset);
              assertThat(e.status()).hasValue(403);
            });
    // Now the client knows: the next call is refused without a request.
    int before = fake.totalRequests();
    assertThatThrownBy(() -> gitHub.pull("acme", "widgets", 1))
        .isInstanceOfSatisfying(
            GitHubException.class, e -> assertThat(e.retryAt()).hasValue(reset));
    assertThat(fake.totalRequests()).isEqualTo(before);
    assertThat(sleeper.waits()).isEmpty();
  }

  @Test
  void secondaryLimitsHonourRetryAfter() {
    fake.secondaryLimitNext(1, 403, Duration.ofSeconds(45));
    fake.secondaryLimitNext(1, 429, Duration.ofSeconds(3));

    GhPull pull = client().pull("acme", "widgets", 1);

    assertThat(pull.number()).isEqualTo(1);
    assertThat(sleeper.durations()).containsExactly(Duration.ofSeconds(45), Duration.ofSeconds(3));
    assertThat(events)
        .containsExactly(
            "PULL 403",
            "wait SECONDARY_RATE_LIMIT PT45S",
            "PULL 429",
            "wait SECONDARY_RATE_LIMIT PT3S",
            "PULL 200");
  }

  @Test
  void secondaryLimitsWithoutRetryAfterBackOffAtLeastAMinuteGrowing() {
    fake.secondaryLimitNext(3, 403, null);

    client().repository("acme", "widgets");

    List<Duration> waits = sleeper.durations();
    assertThat(waits).hasSize(3);
    assertThat(waits.get(0)).isBetween(Duration.ofSeconds(60), Duration.ofSeconds(75));
    assertThat(waits.get(1)).isBetween(Duration.ofSeconds(120), Duration.ofSeconds(150));
    assertThat(waits.get(2)).isBetween(Duration.ofSeconds(240), Duration.ofSeconds(300));
  }

  @Test
  void secondaryLimitsGiveUpAfterTheRetryCap() {
    fake.secondaryLimitNext(10, 429, Duration.ofSeconds(1));
    HttpGitHub gitHub =
        client(
            GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                .maxRateLimitRetries(2));

    assertThatThrownBy(() -> gitHub.repository("acme", "widgets"))
        .isInstanceOfSatisfying(
            GitHubException.class,
            e -> {
              assertThat(e.status()).hasValue(429);
              assertThat(e.isRateLimited()).isTrue();
            });
    assertThat(fake.requests(RequestKind.REPOSITORY, 429)).isEqualTo(3);
  }

  @Test
  void aPlainForbiddenIsNotRetried() {
    fake.failNext(1, 403);

    assertThatThrownBy(() -> client().repository("acme", "widgets"))
        .isInstanceOfSatisfying(
            GitHubException.class,
            e -> {
              assertThat(e.status()).hasValue(403);
              assertThat(e.isRateLimited()).isFalse();
            });
    assertThat(fake.totalRequests()).isEqualTo(1);
    assertThat(sleeper.waits()).isEmpty();
  }

  @Test
  void aBurstOf502IsRetriedWithGrowingJitteredBackoff() {
    fake.failNext(2, 502);

    GhRepository repo = client().repository("acme", "widgets");

    assertThat(repo.fullName()).isEqualTo("acme/widgets");
    assertThat(fake.requests(RequestKind.REPOSITORY, 502)).isEqualTo(2);
    List<Duration> waits = sleeper.durations();
    assertThat(waits).hasSize(2);
    assertThat(waits.get(0)).isBetween(Duration.ofMillis(500), Duration.ofSeconds(1));
    assertThat(waits.get(1)).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(2));
    assertThat(events).startsWith("REPOSITORY 502").endsWith("REPOSITORY 200");
  }

  @Test
  void persistentServerErrorsGiveUpAfterTheCapWithTheStatus() {
    fake.failNext(10, 503);

    assertThatThrownBy(() -> client().repository("acme", "widgets"))
        .isInstanceOfSatisfying(
            GitHubException.class,
            e -> {
              assertThat(e.status()).hasValue(503);
              assertThat(e.getMessage()).contains("503", "4 attempts");
            });
    assertThat(fake.requests(RequestKind.REPOSITORY, 503)).isEqualTo(4);
    assertThat(sleeper.waits()).hasSize(3);
  }

  @Test
  void aServerErrorMidListingIsRetriedAndTheListingCompletes() {
    fake.createRepo("acme", "many").openPrs(250);
    fake.failNext(RequestKind.PULLS_LIST, 1, 500);
    HttpGitHub gitHub = client();
    gitHub.openPulls("acme", "many", page -> true);
    fake.failNext(RequestKind.PULLS_LIST, 1, 500);
    assertThat(gitHub.openPulls("acme", "many", page -> true).items()).isEqualTo(250);
  }

  @Test
  void aTimeoutIsRetried() {
    fake.latency(Duration.ofMillis(1_000));
    sleeper.onSleep(() -> fake.latency(Duration.ZERO));
    HttpGitHub gitHub =
        client(
            GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                .requestTimeout(Duration.ofMillis(300)));

    GhRepository repo = gitHub.repository("acme", "widgets");

    assertThat(repo.name()).isEqualTo("widgets");
    assertThat(events.get(0)).isEqualTo("REPOSITORY HttpTimeoutException");
    assertThat(events.get(1)).startsWith("wait NETWORK_ERROR");
  }

  @Test
  void aConnectionRefusedGivesUpAfterTheCap() {
    String deadUrl = fake.baseUrl();
    fake.close();
    HttpGitHub gitHub =
        HttpGitHub.builder(
                GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                    .baseUrl(deadUrl)
                    .maxRetries(2)
                    .build())
            .clock(clock)
            .sleeper(sleeper)
            .build();

    assertThatThrownBy(() -> gitHub.repository("acme", "widgets"))
        .isInstanceOfSatisfying(
            GitHubException.class,
            e -> {
              assertThat(e.status()).isEmpty();
              assertThat(e.getMessage()).contains("3 attempts");
              // The cause is named, not just "(ConnectException)".
              assertThat(e.getMessage()).containsPattern("\\(ConnectException.*: .+\\)");
            });
    assertThat(sleeper.waits()).hasSize(2);
  }

  @Test
  void anInterruptedWaitEndsTheCallAndKeepsTheInterrupt() {
    fake.failNext(1, 502);
    HttpGitHub gitHub =
        HttpGitHub.builder(
                GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                    .baseUrl(fake.baseUrl())
                    .build())
            .clock(clock)
            .sleeper(
                d -> {
                  throw new InterruptedException("cancelled");
                })
            .build();

    try {
      assertThatThrownBy(() -> gitHub.repository("acme", "widgets"))
          .isInstanceOfSatisfying(
              GitHubException.class,
              e -> {
                assertThat(e.isInterrupted()).isTrue();
                assertThat(e.getCause()).isInstanceOf(InterruptedException.class);
              });
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void anInterruptedThreadDoesNotCall() {
    HttpGitHub gitHub = client();
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> gitHub.repository("acme", "widgets"))
          .isInstanceOfSatisfying(
              GitHubException.class, e -> assertThat(e.isInterrupted()).isTrue());
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertThat(fake.totalRequests()).isZero();
  }

  @Test
  void realSleeperIsInterruptible() throws Exception {
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> Sleeper.system().sleep(Duration.ofMinutes(1)))
          .isInstanceOf(InterruptedException.class);
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void malformedJsonIsAGitHubExceptionAndNotCached() {
    fake.malformedJson("/repos/acme/widgets/pulls/2");
    fake.malformedJson("/repos/acme/widgets/pulls");
    HttpGitHub gitHub = client();

    assertThatThrownBy(() -> gitHub.pull("acme", "widgets", 2))
        .isExactlyInstanceOf(GitHubException.class)
        .hasMessageContaining("malformed JSON")
        .satisfies(e -> assertThat(((GitHubException) e).status()).hasValue(200));
    assertThatThrownBy(() -> gitHub.openPulls("acme", "widgets", page -> true))
        .isExactlyInstanceOf(GitHubException.class);

    fake.clearMalformedJson();
    assertThat(gitHub.pull("acme", "widgets", 2).number()).isEqualTo(2);
    assertThat(fake.requests(RequestKind.PULL, 304)).isZero();
  }

  @Test
  void aFailingListenerNeverBreaksACall() {
    fake.failNext(1, 502);
    GitHubListener broken =
        new GitHubListener() {
          @Override
          public void onResponse(
                  dev.changesync.engine.github.RequestKind kind, int status, Duration took) {
            throw new IllegalStateException("listener bug");
          }

          @Override
          public void onRateLimit(RateLimit rateLimit) {
            throw new IllegalStateException("listener bug");
          }

          @Override
          public void onWait(WaitReason reason, Duration duration) {
            throw new IllegalStateException("listener bug");
          }
        };
    HttpGitHub gitHub =
        HttpGitHub.builder(
                GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                    .baseUrl(fake.baseUrl())
                    .build())
            .clock(clock)
            .sleeper(sleeper)
            .listener(broken)
            .build();

    assertThat(gitHub.repository("acme", "widgets").name()).isEqualTo("widgets");
  }

  @Test
  void theListenerHearsTheRateLimit() {
    List<RateLimit> seen = new CopyOnWriteArrayList<>();
    HttpGitHub gitHub =
        HttpGitHub.builder(
                GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                    .baseUrl(fake.baseUrl())
                    .build())
            .clock(clock)
            .listener(
                new GitHubListener() {
                  @Override
                  public void onRateLimit(RateLimit rateLimit) {
                    seen.add(rateLimit);
                  }
                })
            .build();

    gitHub.repository("acme", "widgets");

    assertThat(seen)
        .containsExactly(new RateLimit(5_000, 4_999, 1, fake.rateLimitResetAt(), "core"));
  }
}
