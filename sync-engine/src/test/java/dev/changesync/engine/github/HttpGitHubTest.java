package dev.changesync.engine.github;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.engine.github.GitHub.ListingStats;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.testkit.github.FakeFile;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakePr;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import dev.changesync.testkit.github.RecordedRequest;
import dev.changesync.testkit.github.RequestKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link HttpGitHub} against {@link FakeGitHub} over real HTTP: the calls, pagination, parsing. */
class HttpGitHubTest {

  private final MutableClock clock = new MutableClock();
  private FakeGitHub fake;
  private HttpGitHub gitHub;

  @BeforeEach
  void start() {
    fake = FakeGitHub.builder().clock(clock).start();
    gitHub = client(fake.baseUrl());
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  private HttpGitHub client(String baseUrl) {
    GitHubSettings settings =
        GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
            .baseUrl(baseUrl)
            .requestTimeout(Duration.ofSeconds(5))
            .build();
    return HttpGitHub.builder(settings)
        .clock(clock)
        .sleeper(d -> clock.advance(d))
        .build();
  }

  @Test
  void readsTheRepository() {
    FakeRepo repo = fake.createRepo("Acme", "Widgets");

    GhRepository r = gitHub.repository("acme", "widgets");

    assertThat(r).isEqualTo(new GhRepository(repo.id(), "Acme", "Widgets", "Acme/Widgets", "main"));
  }

  @Test
  void comparesTwoShasForTheMergeBaseAndRevalidatesTheAnswer() {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    FakePr pr = repo.openPr(PrSpec.files(2));
    String branchedOff = pr.baseSha();
    pr.push();
    pr.moveBase();

    GhComparison c = gitHub.compare("acme", "widgets", pr.baseSha(), pr.headSha());
    GhComparison again = gitHub.compare("acme", "widgets", pr.baseSha(), pr.headSha());

    assertThat(c).isEqualTo(new GhComparison(branchedOff, "diverged", 2, 1)).isEqualTo(again);
    List<RecordedRequest> log = fake.requestLog();
    assertThat(log).extracting(RecordedRequest::target)
        .containsOnly(
            "/repos/acme/widgets/compare/" + pr.baseSha() + "..." + pr.headSha() + "?per_page=1");
    assertThat(log).extracting(RecordedRequest::status).containsExactly(200, 304);
    assertThat(fake.requests(RequestKind.COMPARE)).isEqualTo(2);
    assertThatThrownBy(() -> gitHub.compare("acme", "widgets", "main", pr.headSha()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a commit SHA");
    assertThatThrownBy(() -> gitHub.compare("acme", "widgets", pr.baseSha(), "f".repeat(40)))
        .isInstanceOfSatisfying(
            GitHubException.class, e -> assertThat(e.isNotFound()).isTrue());
  }

  @Test
  void listsAllOpenPullRequestsNewestFirstByFollowingLinkHeaders() {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    List<FakePr> prs = repo.openPrs(250);
    repo.pr(7).close();
    repo.pr(8).merge();

    List<List<GhPullSummary>> pages = new ArrayList<>();
    ListingStats stats = gitHub.openPulls("acme", "widgets", pages::add);

    assertThat(stats).isEqualTo(new ListingStats(3, 0, 248, false));
    assertThat(pages).extracting(List::size).containsExactly(100, 100, 48);
    List<Integer> numbers =
        pages.stream().flatMap(List::stream).map(GhPullSummary::number).toList();
    assertThat(numbers).hasSize(248).doesNotContain(7, 8).isSortedAccordingTo((a, b) -> b - a);
    assertThat(numbers.get(0)).isEqualTo(250);
    FakePr pr = prs.get(41);
    GhPullSummary listed =
        pages.stream().flatMap(List::stream).filter(p -> p.number() == 42).findFirst().get();
    assertThat(listed)
        .isEqualTo(
            new GhPullSummary(
                pr.id(),
                42,
                "open",
                pr.draft(),
                pr.title(),
                pr.headSha(),
                pr.headRef(),
                pr.baseSha(),
                "main",
                pr.updatedAt()));
    // Page 1 by the URL the client built, the rest exactly where GitHub's Link header pointed.
    List<String> targets =
        fake.requestLog().stream().map(RecordedRequest::target).toList();
    assertThat(targets)
        .containsExactly(
            "/repos/acme/widgets/pulls?state=open&per_page=100",
            "/repositories/" + repo.id() + "/pulls?state=open&per_page=100&page=2",
            "/repositories/" + repo.id() + "/pulls?state=open&per_page=100&page=3");
    assertThat(fake.requests(RequestKind.PULLS_LIST, 200)).isEqualTo(3);
  }

  @Test
  void listingStopsWhenTheConsumerSaysSo() {
    fake.createRepo("acme", "widgets").openPrs(250);

    List<Integer> seen = new ArrayList<>();
    ListingStats stats =
        gitHub.openPulls(
            "acme",
            "widgets",
            page -> {
              page.forEach(p -> seen.add(p.number()));
              return false;
            });

    assertThat(stats).isEqualTo(new ListingStats(1, 0, 100, false));
    assertThat(seen).hasSize(100);
    assertThat(fake.totalRequests()).isEqualTo(1);
  }

  @Test
  void anEmptyListingCallsNoConsumer() {
    fake.createRepo("acme", "empty");

    ListingStats stats =
        gitHub.openPulls(
            "acme",
            "empty",
            page -> {
              throw new AssertionError("no page expected");
            });

    assertThat(stats).isEqualTo(new ListingStats(1, 0, 0, false));
  }

  @Test
  void readsAPullRequestToleratingMissingAndUnknownFields() {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    List<FakePr> prs = repo.openPrs(13, PrSpec.files(4));
    prs.get(2).push(); // #3
    FakePr merged = prs.get(4).merge(); // #5

    // #4 has no merge_commit_sha, #13 a deleted head repository, all carry unknown fields.
    for (FakePr pr : List.of(prs.get(3), prs.get(12), prs.get(2), merged)) {
      GhPull pull = gitHub.pull("acme", "widgets", pr.number());
      assertThat(pull.number()).isEqualTo(pr.number());
      assertThat(pull.id()).isEqualTo(pr.id());
      assertThat(pull.state()).isEqualTo(pr.state());
      assertThat(pull.merged()).isEqualTo(pr.merged());
      assertThat(pull.headSha()).isEqualTo(pr.headSha());
      assertThat(pull.baseSha()).isEqualTo(pr.baseSha());
      assertThat(pull.baseRef()).isEqualTo("main");
      assertThat(pull.changedFiles()).isEqualTo(4);
      assertThat(pull.additions()).isEqualTo(pr.additions());
      assertThat(pull.deletions()).isEqualTo(pr.deletions());
      assertThat(pull.updatedAt()).isEqualTo(pr.updatedAt());
      assertThat(pull.mergeCommitSha().isPresent()).isEqualTo(pr.number() % 4 != 0);
    }
  }

  @Test
  void listsFilesWithRenamesBinariesAndPatches() {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    FakePr pr =
        repo.openPr(PrSpec.files(230).withBinaryFiles(5).withRenamedFiles(6).withLargeFiles(2));

    List<GhFile> files = new ArrayList<>();
    ListingStats stats = gitHub.pullFiles("acme", "widgets", pr.number(), files::addAll);

    assertThat(stats).isEqualTo(new ListingStats(3, 0, 230, false));
    assertThat(files).hasSize(230);
    for (int i = 0; i < files.size(); i++) {
      FakeFile expected = pr.files().get(i);
      GhFile actual = files.get(i);
      assertThat(actual)
          .isEqualTo(
              new GhFile(
                  expected.filename(),
                  Optional.ofNullable(expected.previousFilename()),
                  expected.status(),
                  expected.additions(),
                  expected.deletions(),
                  expected.changes(),
                  Optional.of(expected.sha()),
                  Optional.ofNullable(expected.patch())));
    }
    assertThat(files).filteredOn(f -> f.status().equals("renamed")).hasSize(6)
        .allSatisfy(f -> assertThat(f.previousFilename()).isPresent());
    assertThat(files).filteredOn(f -> f.patch().isEmpty()).hasSizeGreaterThanOrEqualTo(5 + 3 + 2);
  }

  @Test
  void filesStopAtGitHubsLimitAndSayTheListingIsTruncated() {
    FakePr pr = fake.createRepo("acme", "huge").openPr(PrSpec.files(3_050).withMaxHunksPerFile(1));

    List<GhFile> files = new ArrayList<>();
    ListingStats stats = gitHub.pullFiles("acme", "huge", pr.number(), files::addAll);

    assertThat(stats).isEqualTo(new ListingStats(30, 0, 3_000, true));
    assertThat(files).hasSize(3_000);
    assertThat(gitHub.pull("acme", "huge", pr.number()).changedFiles()).isEqualTo(3_050);
  }

  @Test
  void unknownRepositoryOrPullIsNotFound() {
    fake.createRepo("acme", "widgets").openPr();

    assertThatThrownBy(() -> gitHub.repository("acme", "nothing"))
        .isInstanceOfSatisfying(
            GitHubException.class,
            e -> {
              assertThat(e.isNotFound()).isTrue();
              assertThat(e.status()).hasValue(404);
              assertThat(e.getMessage()).contains("/repos/acme/nothing", "404", "Not Found");
            });
    assertThatThrownBy(() -> gitHub.pull("acme", "widgets", 99))
        .isInstanceOfSatisfying(GitHubException.class, e -> assertThat(e.isNotFound()).isTrue());
    assertThatThrownBy(() -> gitHub.pullFiles("acme", "widgets", 99, page -> true))
        .isInstanceOfSatisfying(GitHubException.class, e -> assertThat(e.isNotFound()).isTrue());
    fake.notFound("acme", "widgets");
    assertThatThrownBy(() -> gitHub.openPulls("acme", "widgets", page -> true))
        .isInstanceOfSatisfying(GitHubException.class, e -> assertThat(e.isNotFound()).isTrue());
  }

  @Test
  void badCredentialsFailWithoutRetryAndWithoutShowingTheToken() {
    fake.createRepo("acme", "widgets");
    String secret = "ghp_notAcceptedAnywhere0000000000000000";
    HttpGitHub wrong =
        HttpGitHub.builder(
                GitHubSettings.builder(GitHubAuth.token(secret)).baseUrl(fake.baseUrl()).build())
            .clock(clock)
            .sleeper(d -> clock.advance(d))
            .build();

    assertThatThrownBy(() -> wrong.repository("acme", "widgets"))
        .isInstanceOfSatisfying(
            GitHubException.class,
            e -> {
              assertThat(e.status()).hasValue(401);
              assertThat(e.getMessage()).contains("Bad credentials").doesNotContain(secret);
            });
    assertThat(fake.totalRequests()).isEqualTo(1);
    assertThat(wrong.toString()).doesNotContain(secret);
    assertThat(wrong.settings().toString()).doesNotContain(secret);
  }

  @Test
  void sendsGitHubsHeaders() {
    fake.createRepo("acme", "widgets");

    gitHub.repository("acme", "widgets");

    RecordedRequest request = fake.requestLog().get(0);
    assertThat(request.headers())
        .containsEntry("accept", "application/vnd.github+json")
        .containsEntry("x-github-api-version", "2022-11-28")
        .containsEntry("user-agent", GitHubSettings.defaultUserAgent());
    assertThat(request.principal()).hasValue("token:" + FakeGitHub.DEFAULT_TOKEN);
  }

  @Test
  void worksUnderAnEnterpriseServerPathWithATrailingSlash() {
    try (FakeGitHub ghes = FakeGitHub.builder().clock(clock).pathPrefix("/api/v3").start()) {
      ghes.createRepo("corp", "app").openPrs(120, PrSpec.files(1));
      HttpGitHub client = client(ghes.baseUrl() + "/");

      assertThat(client.repository("corp", "app").fullName()).isEqualTo("corp/app");
      ListingStats stats = client.openPulls("corp", "app", page -> true);

      assertThat(stats.items()).isEqualTo(120);
      assertThat(ghes.requestLog())
          .extracting(RecordedRequest::path)
          .allSatisfy(p -> assertThat(p).startsWith("/api/v3/"));
    }
  }

  @Test
  void rejectsInvalidNamesBeforeCallingGitHub() {
    assertThatThrownBy(() -> gitHub.repository("acme", ".."))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> gitHub.repository("ac/me", "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> gitHub.pull("acme", "x", 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(fake.totalRequests()).isZero();
  }
}
