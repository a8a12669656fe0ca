package dev.changesync.engine.github;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.lease.testing.MutableClock;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.RequestKind;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The bound on response bodies: one over the limit fails its call at once with a {@link
 * GitHubException} (no retry, the rest of the body never read), whether its length is declared or
 * only found by counting.
 */
class HttpGitHubResponseSizeTest {

  private static final long LIMIT = 256 * 1024;

  private final MutableClock clock = new MutableClock();
  private FakeGitHub fake;

  @BeforeEach
  void start() {
    fake = FakeGitHub.builder().clock(clock).start();
    FakeRepo repo = fake.createRepo("acme", "widgets");
    repo.openPr(3);
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  private HttpGitHub client(long maxResponseBytes) {
    GitHubSettings settings =
        GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
            .baseUrl(fake.baseUrl())
            .requestTimeout(Duration.ofSeconds(20))
            .build();
    return HttpGitHub.builder(settings)
        .clock(clock)
        .sleeper(d -> clock.advance(d))
        .maxResponseBytes(maxResponseBytes)
        .build();
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aFilesPageOverTheLimitFailsThatCallWithoutRetrying(boolean declareLength) {
    fake.oversizedBody("/repos/acme/widgets/pulls/1/files", LIMIT + 1, declareLength);
    HttpGitHub gitHub = client(LIMIT);

    assertThatThrownBy(() -> gitHub.pullFiles("acme", "widgets", 1, page -> true))
        .isExactlyInstanceOf(GitHubException.class)
        .hasMessageStartingWith("GET " + fake.baseUrl() + "/repos/acme/widgets/pulls/1/files")
        .hasMessageContaining(
            declareLength
                ? "failed: the response declares 262145 bytes, over the limit of 262144"
                : "failed: the response body is over the limit of 262144 bytes")
        .hasMessageEndingWith("(the client reads at most 262144 bytes of a response)")
        .satisfies(e -> assertThat(((GitHubException) e).isNotFound()).isFalse());
    assertThat(fake.requests(RequestKind.FILES)).isEqualTo(1);
  }

  @Test
  void aBodyOfExactlyTheLimitIsRead() {
    fake.oversizedBody("/repos/acme/widgets/pulls/1/files", LIMIT, false);

    GitHub.ListingStats stats = client(LIMIT).pullFiles("acme", "widgets", 1, page -> true);

    assertThat(stats.items()).isZero(); // "[   ...   ]": an empty page
  }

  @Test
  void theDefaultLimitIsThirtyTwoMebibytes() {
    fake.oversizedBody("/repos/acme/widgets/pulls/1/files", (32L << 20) + 1, false);
    GitHubSettings settings =
        GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
            .baseUrl(fake.baseUrl())
            .requestTimeout(Duration.ofSeconds(60))
            .build();
    HttpGitHub gitHub = HttpGitHub.builder(settings).clock(clock).build();

    assertThat(HttpGitHub.DEFAULT_MAX_RESPONSE_BYTES).isEqualTo(32L * 1024 * 1024);
    assertThatThrownBy(() -> gitHub.pullFiles("acme", "widgets", 1, page -> true))
        .isExactlyInstanceOf(GitHubException.class)
        .hasMessageContaining("over the limit of 33554432 bytes");
    fake.clearOversizedBodies();
    assertThat(gitHub.pullFiles("acme", "widgets", 1, page -> true).items()).isEqualTo(3);
  }

  @Test
  void theLimitMustBePositive() {
    HttpGitHub.Builder builder =
        HttpGitHub.builder(GitHubSettings.of(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN)));

    assertThatThrownBy(() -> builder.maxResponseBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxResponseBytes must be at least 1, was 0");
  }
}
