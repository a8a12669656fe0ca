package dev.changesync.engine.github;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.github.GitHub.ListingStats;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.RequestKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Requests conditional on validators the caller stored ({@link KnownETags}), made by a client that
 * has nothing in memory — as a new process would: when a listing counts as unchanged, and when it
 * must be listed in full.
 */
class HttpGitHubStoredETagsTest {

  private static final String OTHER_TOKEN = "ghp_other000000000000000000000000000token";

  private final MutableClock clock = new MutableClock();
  private final FakeGitHub fake =
      FakeGitHub.builder().clock(clock).token(FakeGitHub.DEFAULT_TOKEN).token(OTHER_TOKEN).start();
  private final FakeRepo repo = fake.createRepo("acme", "widgets");

  /** What a caller stored: validators by credential and URL. */
  private final Map<String, Validator> stored = new ConcurrentHashMap<>();

  private final KnownETags known =
      (credential, url) -> Optional.ofNullable(stored.get(credential + " " + url));

  @AfterEach
  void stop() {
    fake.close();
  }

  /** A client with an empty in-memory cache. */
  private HttpGitHub newClient(String token) {
    return HttpGitHub.builder(
            GitHubSettings.builder(GitHubAuth.token(token)).baseUrl(fake.baseUrl()).build())
        .clock(clock)
        .sleeper(clock::advance)
        .build();
  }

  private void store(Conditional<?> outcome) {
    for (Validator v : outcome.validators()) {
      stored.put(v.credential() + " " + v.url(), v);
    }
  }

  private Conditional<ListingStats> list(HttpGitHub client, List<GhPullSummary> into) {
    return client.openPulls("acme", "widgets", known, into::addAll);
  }

  @Test
  void aListingWhosePagesAreAllConfirmedIsUnchangedAndCostsNothing() {
    repo.openPrs(250);
    Conditional<ListingStats> first = list(newClient(FakeGitHub.DEFAULT_TOKEN), new ArrayList<>());
    assertThat(first).isInstanceOf(Conditional.Changed.class);
    assertThat(first.validators()).hasSize(3);
    assertThat(first.validators().get(2).nextUrl()).isNull();
    store(first);
    fake.resetCounters();

    List<GhPullSummary> seen = new ArrayList<>();
    Conditional<ListingStats> again = list(newClient(FakeGitHub.DEFAULT_TOKEN), seen);

    assertThat(again).isInstanceOf(Conditional.Unchanged.class);
    assertThat(seen).isEmpty();
    assertThat(fake.requests(RequestKind.PULLS_LIST, 304)).isEqualTo(3);
    assertThat(fake.rateLimitedRequests()).isZero();
  }

  @Test
  void aChangeOnAMiddlePageListsEverythingAgainOnce() {
    repo.openPrs(250);
    store(list(newClient(FakeGitHub.DEFAULT_TOKEN), new ArrayList<>()));
    repo.pr(100).setTitle("changed"); // on page 2 (newest first)
    fake.resetCounters();

    List<GhPullSummary> seen = new ArrayList<>();
    Conditional<ListingStats> again = list(newClient(FakeGitHub.DEFAULT_TOKEN), seen);

    assertThat(again).isInstanceOf(Conditional.Changed.class);
    assertThat(seen).extracting(GhPullSummary::number).doesNotHaveDuplicates().hasSize(250);
    assertThat(seen).filteredOn(p -> p.number() == 100).extracting(GhPullSummary::title)
        .containsExactly("changed");
    // Probe: page 1 confirmed, page 2 changed. Then the listing again from page 1; page 2's new
    // body is in the client's memory by now (a 304 to its new ETag), pages 1 and 3 are not.
    assertThat(fake.requests(RequestKind.PULLS_LIST, 304)).isEqualTo(2);
    assertThat(fake.requests(RequestKind.PULLS_LIST, 200)).isEqualTo(3);
    store(again);
    assertThat(list(newClient(FakeGitHub.DEFAULT_TOKEN), new ArrayList<>()))
        .isInstanceOf(Conditional.Unchanged.class);
  }

  @Test
  void aFullLastPageIsNeverTakenAsTheEnd() {
    repo.openPrs(200); // two full pages: a third one could appear without changing them
    store(list(newClient(FakeGitHub.DEFAULT_TOKEN), new ArrayList<>()));

    List<GhPullSummary> seen = new ArrayList<>();
    Conditional<ListingStats> again = list(newClient(FakeGitHub.DEFAULT_TOKEN), seen);

    assertThat(again).isInstanceOf(Conditional.Changed.class);
    assertThat(seen).hasSize(200);
  }

  @Test
  void aPullConfirmedIsUnchangedAndAnotherCredentialSendsNoETag() {
    repo.openPrs(3);
    Conditional<GhPull> first = newClient(FakeGitHub.DEFAULT_TOKEN).pull("acme", "widgets", 2, known);
    assertThat(first).isInstanceOf(Conditional.Changed.class);
    store(first);
    fake.resetCounters();

    assertThat(newClient(FakeGitHub.DEFAULT_TOKEN).pull("acme", "widgets", 2, known))
        .isInstanceOf(Conditional.Unchanged.class);
    assertThat(newClient(OTHER_TOKEN).pull("acme", "widgets", 2, known))
        .isInstanceOf(Conditional.Changed.class);
    assertThat(fake.requests(RequestKind.PULL, 304)).isEqualTo(1);
    assertThat(fake.requests(RequestKind.PULL, 200)).isEqualTo(1);
    assertThat(fake.requestLog().get(1).ifNoneMatch()).isEmpty();

    repo.pr(2).push();
    Conditional<GhPull> changed = newClient(FakeGitHub.DEFAULT_TOKEN).pull("acme", "widgets", 2, known);
    assertThat(changed).isInstanceOf(Conditional.Changed.class);
    assertThat(changed.validators().get(0).etag()).isNotEqualTo(first.validators().get(0).etag());
  }
}
