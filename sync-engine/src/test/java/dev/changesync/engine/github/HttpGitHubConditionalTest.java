package dev.changesync.engine.github;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.github.GitHub.ListingStats;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import dev.changesync.testkit.github.RecordedRequest;
import dev.changesync.testkit.github.RequestKind;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Conditional requests: what an unchanged object costs, and whose cache entry is whose. */
class HttpGitHubConditionalTest {

  private static final String OTHER_TOKEN = "ghp_other000000000000000000000000000token";

  private final MutableClock clock = new MutableClock();
  private final FakeGitHub fake =
      FakeGitHub.builder().clock(clock).token(FakeGitHub.DEFAULT_TOKEN).token(OTHER_TOKEN).start();

  @AfterEach
  void stop() {
    fake.close();
  }

  private HttpGitHub client(String token, GitHubCache cache) {
    HttpGitHub.Builder b =
        HttpGitHub.builder(
                GitHubSettings.builder(GitHubAuth.token(token)).baseUrl(fake.baseUrl()).build())
            .clock(clock)
            .sleeper(d -> clock.advance(d));
    if (cache != null) {
      b.cache(cache);
    }
    return b.build();
  }

  private static List<GhPullSummary> listAll(HttpGitHub gitHub, List<ListingStats> stats) {
    List<GhPullSummary> all = new ArrayList<>();
    stats.add(gitHub.openPulls("acme", "widgets", all::addAll));
    return all;
  }

  @Test
  void aSecondListingWithNothingChangedCostsNoRateLimit() {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    repo.openPrs(250);
    HttpGitHub gitHub = client(FakeGitHub.DEFAULT_TOKEN, null);
    List<ListingStats> stats = new ArrayList<>();
    List<GhPullSummary> first = listAll(gitHub, stats);
    GhPull pull = gitHub.pull("acme", "widgets", 42);
    List<GhFile> files = new ArrayList<>();
    gitHub.pullFiles("acme", "widgets", 42, files::addAll);
    int spent = fake.rateLimitedRequests();
    int remaining = fake.rateLimitRemaining();

    List<GhPullSummary> second = listAll(gitHub, stats);
    GhPull pullAgain = gitHub.pull("acme", "widgets", 42);
    List<GhFile> filesAgain = new ArrayList<>();
    ListingStats fileStats = gitHub.pullFiles("acme", "widgets", 42, filesAgain::addAll);

    assertThat(second).isEqualTo(first).hasSize(250);
    assertThat(pullAgain).isEqualTo(pull);
    assertThat(filesAgain).isEqualTo(files);
    assertThat(stats.get(0)).isEqualTo(new ListingStats(3, 0, 250, false));
    assertThat(stats.get(1)).isEqualTo(new ListingStats(3, 3, 250, false));
    assertThat(fileStats.notModifiedPages()).isEqualTo(fileStats.pages()).isEqualTo(1);
    assertThat(fake.rateLimitedRequests()).isEqualTo(spent);
    assertThat(fake.rateLimitRemaining()).isEqualTo(remaining);
    assertThat(fake.requests(RequestKind.PULLS_LIST, 304)).isEqualTo(3);
    assertThat(fake.requests(RequestKind.PULL, 304)).isEqualTo(1);
    assertThat(fake.requests(RequestKind.FILES, 304)).isEqualTo(1);
  }

  @Test
  void aChangedPullRequestCostsOnlyItsPageAndItself() {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    repo.openPrs(250, PrSpec.files(150));
    HttpGitHub gitHub = client(FakeGitHub.DEFAULT_TOKEN, null);
    List<ListingStats> stats = new ArrayList<>();
    listAll(gitHub, stats);
    gitHub.pull("acme", "widgets", 42);
    gitHub.pullFiles("acme", "widgets", 42, page -> true);
    int spent = fake.rateLimitedRequests();

    repo.pr(42).push(); // #42 is on the third page (250..151, 150..51, 50..1)
    List<GhPullSummary> after = listAll(gitHub, stats);
    GhPull pull = gitHub.pull("acme", "widgets", 42);
    ListingStats files = gitHub.pullFiles("acme", "widgets", 42, page -> true);

    assertThat(stats.get(1)).isEqualTo(new ListingStats(3, 2, 250, false));
    assertThat(after.stream().filter(p -> p.number() == 42).findFirst().get().headSha())
        .isEqualTo(repo.pr(42).headSha());
    assertThat(pull.headSha()).isEqualTo(repo.pr(42).headSha());
    assertThat(files).isEqualTo(new ListingStats(2, 0, 150, false));
    // the page, the pull request, two pages of files
    assertThat(fake.rateLimitedRequests() - spent).isEqualTo(1 + 1 + 2);
  }

  @Test
  void theCacheIsKeyedByCredential() {
    fake.createRepo("acme", "widgets").openPrs(120, PrSpec.files(1));
    GitHubCache shared = GitHubCache.withMaxBytes(8 * 1024 * 1024);
    HttpGitHub mine = client(FakeGitHub.DEFAULT_TOKEN, shared);
    HttpGitHub theirs = client(OTHER_TOKEN, shared);

    listAll(mine, new ArrayList<>());
    fake.resetCounters();
    ListingStats theirStats = theirs.openPulls("acme", "widgets", page -> true);

    assertThat(theirStats.notModifiedPages()).isZero();
    assertThat(fake.requestLog())
        .hasSize(2)
        .allSatisfy(
            r -> {
              assertThat(r.principal()).hasValue("token:" + OTHER_TOKEN);
              assertThat(r.ifNoneMatch()).isEmpty();
              assertThat(r.status()).isEqualTo(200);
            });

    fake.resetCounters();
    ListingStats myStats = mine.openPulls("acme", "widgets", page -> true);
    ListingStats theirsAgain = theirs.openPulls("acme", "widgets", page -> true);
    assertThat(myStats.notModifiedPages()).isEqualTo(2);
    assertThat(theirsAgain.notModifiedPages()).isEqualTo(2);
    assertThat(fake.requestLog()).extracting(RecordedRequest::status).containsOnly(304);
    assertThat(shared.entries()).isEqualTo(4);
  }

  @Test
  void aBoundedCacheForgetsAndFallsBackToFullRequests() {
    fake.createRepo("acme", "widgets").openPrs(300, PrSpec.files(1));
    // Room for about one page of a hundred pull requests.
    HttpGitHub gitHub = client(FakeGitHub.DEFAULT_TOKEN, GitHubCache.withMaxBytes(300_000));

    ListingStats first = gitHub.openPulls("acme", "widgets", page -> true);
    ListingStats second = gitHub.openPulls("acme", "widgets", page -> true);

    assertThat(first.items()).isEqualTo(second.items()).isEqualTo(300);
    assertThat(second.notModifiedPages()).isLessThan(3);
  }

  @Test
  void withTheCacheOffNothingIsConditional() {
    fake.createRepo("acme", "widgets");
    HttpGitHub gitHub =
        HttpGitHub.builder(
                GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                    .baseUrl(fake.baseUrl())
                    .cacheMaxBytes(0)
                    .build())
            .build();

    gitHub.repository("acme", "widgets");
    gitHub.repository("acme", "widgets");

    assertThat(fake.requests(RequestKind.REPOSITORY, 200)).isEqualTo(2);
  }
}
