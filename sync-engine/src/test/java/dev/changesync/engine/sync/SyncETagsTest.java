package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.github.HttpGitHub;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.AdminService;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakePr;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import dev.changesync.testkit.github.RecordedRequest;
import dev.changesync.testkit.github.RequestKind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * ETags kept in PostgreSQL: a new worker with a new client — another process, or the same one
 * after a restart, with nothing in memory — asks GitHub conditionally on what the last passes
 * stored, so an unchanged repository costs no rate limit and writes nothing.
 */
class SyncETagsTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String OTHER_TOKEN = "ghp_other_credential_of_the_same_installation";

  private SyncFixture fx;
  private FakeRepo repo;
  private long id;

  @BeforeEach
  void scanAndBackfillWithTheFirstWorker() throws Exception {
    fx = new SyncFixture(db);
    repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(230); // three pages of the listing
    repo.openPr(PrSpec.files(150)); // two pages of files
    id = fx.trackWithBackfill(repo, 10);
    assertThat(fx.drain(fx.worker("first"))).allMatch(PassResult::succeeded);
    assertThat(fx.fake.rateLimitedRequests()).isPositive();
    fx.fake.resetCounters();
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  /** A worker as another process would run it: its own client, with an empty in-memory cache. */
  private Worker newProcessWorker(String name, String token) {
    HttpGitHub client =
        HttpGitHub.builder(
                GitHubSettings.builder(GitHubAuth.token(token)).baseUrl(fx.fake.baseUrl()).build())
            .clock(fx.clock)
            .sleeper(fx.clock::advance)
            .build();
    return fx.worker(name, SyncFixture.SETTINGS, client);
  }

  private void requestFetchAndHints(int... numbers) {
    fx.requestFetch(id);
    for (int number : numbers) {
      fx.hint(id, number, "synchronize");
    }
    fx.clock.advance(
        SyncFixture.SETTINGS.minFetchInterval().plus(SyncFixture.SETTINGS.webhookDebounce()));
  }

  /** Everything the lanes stored about the repository's PRs, timestamps included. */
  private List<Map<String, Object>> storedPulls() {
    return fx.jdbi.withHandle(
        h ->
            h.createQuery(
                    """
                    select o.*, s.indexed_at as s_indexed_at, s.title as s_title,
                           s.head_sha as s_head_sha, s.updated_at as s_updated_at,
                           (select md5(string_agg(f.path || coalesce(f.patch, ''), ',' order by
                                                  f.ordinal))
                              from snapshot_file f
                             where f.repository_id = o.repository_id and f.number = o.number)
                             as files
                      from open_pr o
                      left join pr_snapshot s on s.repository_id = o.repository_id
                                             and s.number = o.number
                     where o.repository_id = :id
                     order by o.number
                    """)
                .bind("id", id)
                .mapToMap()
                .list());
  }

  private int storedETags(String credentialLike) {
    return fx.jdbi.withHandle(
        h ->
            h.createQuery("select count(*) from github_etag where credential like :c")
                .bind("c", credentialLike)
                .mapTo(Integer.class)
                .one());
  }

  @Test
  void aNewWorkerScanningTheUnchangedRepositoryCostsNoRateLimitAndWritesNothing() {
    List<Map<String, Object>> before = storedPulls();
    Object scannedAt = fx.state(id).get("last_successful_fetch_at");
    int big = repo.openPulls().stream().filter(pr -> pr.files().size() == 150).findFirst()
        .orElseThrow().number();
    requestFetchAndHints(1, 2, big);

    List<PassResult> passes = fx.drain(newProcessWorker("restarted", FakeGitHub.DEFAULT_TOKEN));

    assertThat(passes).extracting(PassResult::kind)
        .containsExactlyInAnyOrder(WorkKind.REQUESTED_FETCH, WorkKind.REFRESH);
    assertThat(passes).allMatch(PassResult::succeeded);
    assertThat(fx.fake.rateLimitedRequests()).as("rate limit used").isZero();
    assertThat(fx.fake.requests(RequestKind.PULLS_LIST, 304)).isEqualTo(3);
    assertThat(fx.fake.requests(RequestKind.PULL, 304)).isEqualTo(3);
    assertThat(fx.fake.requests(RequestKind.FILES, 304)).isEqualTo(4); // 1 + 1 + 2 pages
    assertThat(fx.fake.totalRequests()).isEqualTo(10);
    assertThat(storedPulls()).isEqualTo(before);
    Map<String, Object> state = fx.state(id);
    assertThat(state)
        .containsEntry("dirty", false)
        .containsEntry("open_pr_total", 231)
        .containsEntry("open_pr_current", 231);
    assertThat((java.sql.Timestamp) state.get("last_successful_fetch_at"))
        .isAfter((java.sql.Timestamp) scannedAt);
    assertThat(fx.one("select count(*) from refresh_hint", Long.class)).isZero();
  }

  @Test
  void aChangedPullIsFetchedAndStoredAndItsNewETagKept() {
    FakePr renamed = repo.pr(5).setTitle("a new title");
    FakePr pushed = repo.pr(7).push(3);
    repo.pr(11).close();
    String oldETag = etagOfPull(7);
    requestFetchAndHints(5, 7, 9);

    List<PassResult> passes = fx.drain(newProcessWorker("restarted", FakeGitHub.DEFAULT_TOKEN));

    assertThat(passes).allMatch(PassResult::succeeded);
    assertThat(fx.fake.requests(RequestKind.PULL, 200)).isEqualTo(2); // #5 and #7
    assertThat(fx.fake.requests(RequestKind.PULL, 304)).isEqualTo(1); // #9
    assertThat(fx.fake.requests(RequestKind.PULLS_LIST, 200)).isPositive();
    Map<String, Object> row5 = row(5);
    assertThat(row5).containsEntry("title", renamed.title()).containsEntry("freshness", "current");
    Map<String, Object> row7 = row(7);
    assertThat(row7)
        .containsEntry("head_sha", pushed.headSha())
        .containsEntry("snapshot_head_sha", pushed.headSha())
        .containsEntry("freshness", "current");
    assertThat(fx.fileCounts(id)).containsEntry(7, pushed.files().size());
    assertThat(etagOfPull(7)).isNotNull().isNotEqualTo(oldETag);
    assertThat(fx.inventory(id)).extracting(r -> r.get("number")).doesNotContain(11).hasSize(230);
    assertThat(fx.state(id)).containsEntry("open_pr_current", 230);

    // And now that it is stored, the changed repository is unchanged again for any worker.
    fx.fake.resetCounters();
    requestFetchAndHints(5, 7);
    fx.drain(newProcessWorker("restarted-again", FakeGitHub.DEFAULT_TOKEN));
    assertThat(fx.fake.rateLimitedRequests()).isZero();
  }

  @Test
  void backfillRebuildsARowThatIsNotCurrentEvenWhenGitHubWouldConfirmItsStoredETag() {
    assertThat(etagOfPull(3)).isNotNull();
    // As the listing leaves a row whose base moved: stale, and counted so.
    fx.jdbi.useHandle(
        h -> {
          h.execute(
              "update open_pr set freshness = 'stale_base_moved'"
                  + " where repository_id = ? and number = 3",
              id);
          h.execute(
              "update repository_sync_state set open_pr_current = open_pr_current - 1,"
                  + " open_pr_stale = open_pr_stale + 1 where repository_id = ?",
              id);
        });
    fx.clock.advance(SyncFixture.SETTINGS.backfillInterval());

    List<PassResult> passes = fx.drain(newProcessWorker("restarted", FakeGitHub.DEFAULT_TOKEN));

    assertThat(passes).extracting(PassResult::kind).contains(WorkKind.BACKFILL);
    assertThat(passes).allMatch(PassResult::succeeded);
    assertThat(row(3)).containsEntry("freshness", "current");
    assertThat(fx.state(id)).containsEntry("open_pr_current", 231).containsEntry("open_pr_stale", 0);
    assertThat(fx.requestsPerPull(RequestKind.PULL)).containsEntry(3, 1);
    assertThat(fx.fake.requests(RequestKind.PULL, 304)).isZero();
  }

  @Test
  void anotherCredentialDoesNotUseTheETagsOfTheFirst() {
    fx.fake.addToken(OTHER_TOKEN);
    int firstsETags = storedETags("%");
    requestFetchAndHints(1);

    fx.drain(newProcessWorker("other-credential", OTHER_TOKEN));

    assertThat(fx.fake.requests(RequestKind.PULLS_LIST, 200)).isEqualTo(3);
    assertThat(fx.fake.requests(RequestKind.PULL, 200)).isEqualTo(1);
    assertThat(fx.fake.requestLog()).extracting(RecordedRequest::ifNoneMatch)
        .containsOnly(java.util.Optional.empty());
    // Each credential keeps its own; the first one's are still there, and still work.
    // listing pages, PR #1 and its one page of files
    assertThat(etagsPerCredential()).containsExactly(5, firstsETags);
    fx.fake.resetCounters();
    requestFetchAndHints(1);
    fx.drain(newProcessWorker("first-again", FakeGitHub.DEFAULT_TOKEN));
    assertThat(fx.fake.rateLimitedRequests()).isZero();
  }

  private List<Integer> etagsPerCredential() {
    return fx.jdbi.withHandle(
        h ->
            h.createQuery("select count(*)::int from github_etag group by credential order by 1")
                .mapTo(Integer.class)
                .list());
  }

  @Test
  void untrackingTheRepositoryDeletesItsETags() {
    assertThat(storedETags("%")).isPositive();
    new AdminService(fx.jdbi, DbTime.injected(fx.clock))
        .untrack(RepoName.of("acme", "widgets"), "etag-test");
    assertThat(storedETags("%")).isZero();
  }

  @Test
  void etagsNotConfirmedForTwoWeeksArePruned() {
    fx.fake.addToken(OTHER_TOKEN);
    requestFetchAndHints(1);
    fx.drain(newProcessWorker("other-credential", OTHER_TOKEN));
    assertThat(etagsPerCredential()).hasSize(2);
    fx.clock.advance(ETagStore.MAX_AGE.plusDays(1));

    requestFetchAndHints();
    fx.drain(newProcessWorker("first-again", FakeGitHub.DEFAULT_TOKEN));

    // Only the listing the scan just confirmed is left: the other credential's rows and the
    // pull requests' rows of two weeks ago are gone.
    assertThat(etagsPerCredential()).containsExactly(3);
    assertThat(fx.fake.requests(RequestKind.PULLS_LIST, 304)).isEqualTo(3);
  }

  private Map<String, Object> row(int number) {
    return fx.inventory(id).stream()
        .filter(r -> r.get("number").equals(number))
        .findFirst()
        .orElseThrow();
  }

  private String etagOfPull(int number) {
    return fx.jdbi.withHandle(
        h ->
            h.createQuery("select etag from github_etag where url like :u")
                .bind("u", "%/pulls/" + number)
                .mapTo(String.class)
                .findOne()
                .orElse(null));
  }
}
