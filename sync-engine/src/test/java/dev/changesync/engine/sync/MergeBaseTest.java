package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.ApiJson;
import dev.changesync.engine.service.PullSnapshot;
import dev.changesync.engine.service.StatusService;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakePr;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.RequestKind;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The merge base of each snapshot: filled from GitHub's compare endpoint, asked again only when a
 * pull request's head or base SHA moved (requests counted at the fake GitHub).
 */
class MergeBaseTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final RepoName WIDGETS = RepoName.of("acme", "widgets");

  private SyncFixture fx;
  private Worker worker;
  private StatusService status;
  private FakeRepo repo;
  private long id;

  @BeforeEach
  void setUp() throws Exception {
    fx = new SyncFixture(db);
    worker = fx.worker("merge-base");
    status = new StatusService(fx.jdbi, DbTime.injected(fx.clock));
    repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(4);
    id = fx.trackWithBackfill(repo, 0);
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  private Optional<String> mergeBase(int number) {
    return status.pullSnapshot(WIDGETS, number).mergeBaseSha();
  }

  @Test
  void aScanFillsTheMergeBaseOfEveryPullWithOneCompareEach() {
    fx.drain(worker);

    for (FakePr pr : repo.openPulls()) {
      assertThat(mergeBase(pr.number())).as("#%s", pr.number()).contains(pr.mergeBaseSha());
    }
    assertThat(fx.fake.requests(RequestKind.COMPARE, 200)).isEqualTo(4);
    PullSnapshot snapshot = status.pullSnapshot(WIDGETS, 2);
    JsonNode json = ApiJson.newMapper().valueToTree(snapshot);
    assertThat(json.get("merge_base_sha").asText()).isEqualTo(repo.pr(2).mergeBaseSha());
  }

  @Test
  void nothingMovedNothingAsked() {
    fx.drain(worker);
    fx.fake.resetCounters();

    // A title edit: the PR is refreshed, head and base are those of its snapshot.
    repo.pr(1).setTitle("Renamed");
    fx.hint(id, 1, "edited");
    // A rebuild of every PR that is not current (here: one marked failed by hand).
    fx.jdbi.useHandle(h -> h.execute("update open_pr set freshness = 'failed' where number = 3"));
    fx.clock.advance(Duration.ofHours(2));
    fx.drain(worker);

    assertThat(fx.requestsPerPull(RequestKind.PULL)).containsOnlyKeys(1, 3);
    assertThat(fx.fake.requests(RequestKind.COMPARE)).isZero();
    assertThat(mergeBase(1)).contains(repo.pr(1).mergeBaseSha());
    assertThat(mergeBase(3)).contains(repo.pr(3).mergeBaseSha());
    assertThat(status.pullSnapshot(WIDGETS, 1).title()).contains("Renamed");
  }

  @Test
  void aMovedHeadOrBaseAsksOnceForThatPullOnly() {
    fx.drain(worker);
    fx.fake.resetCounters();

    // A push keeps the branch point, a rebase moves it onto the new base.
    FakePr pushed = repo.pr(1).push();
    FakePr rebased = repo.pr(2).rebase();
    String before = mergeBase(2).orElseThrow();
    fx.hint(id, 1, "synchronize");
    fx.hint(id, 2, "synchronize");
    fx.drain(worker);

    assertThat(fx.fake.requests(RequestKind.COMPARE)).isEqualTo(2);
    assertThat(mergeBase(1)).contains(pushed.mergeBaseSha());
    assertThat(mergeBase(2)).contains(rebased.baseSha()).isNotEqualTo(Optional.of(before));
    assertThat(status.pullSnapshot(WIDGETS, 2).headSha()).isEqualTo(rebased.headSha());

    // The base branch moves on without the PR (no webhook): the scan sees it, backfill asks.
    fx.fake.resetCounters();
    FakePr moved = repo.pr(4).moveBase();
    fx.requestFetch(id);
    fx.clock.advance(Duration.ofMinutes(2));
    fx.drain(worker);

    assertThat(fx.fake.requestLog())
        .filteredOn(r -> r.kind() == RequestKind.COMPARE)
        .singleElement()
        .satisfies(
            r ->
                assertThat(r.path())
                    .endsWith("/compare/" + moved.baseSha() + "..." + moved.headSha()));
    assertThat(mergeBase(4)).contains(moved.mergeBaseSha());
  }

  @Test
  void aCompareGitHubCannotAnswerLeavesTheMergeBaseUnknownAndThePullCurrent() {
    FakePr pr = repo.pr(3);
    fx.fake.failPath(
        "/repos/acme/widgets/compare/" + pr.baseSha() + "..." + pr.headSha(), 404);

    fx.drain(worker);

    assertThat(mergeBase(3)).isEmpty();
    assertThat(mergeBase(2)).contains(repo.pr(2).mergeBaseSha());
    assertThat(fx.one("select freshness from open_pr where number = 3", String.class))
        .isEqualTo("current");

    // Asked again at the next rebuild (an unknown merge base is never reused).
    fx.fake.clearFaults();
    pr.setTitle("Again");
    fx.hint(id, 3, "edited");
    fx.drain(worker);
    assertThat(mergeBase(3)).contains(pr.mergeBaseSha());
  }

  @Test
  void aFailingCompareEndsTheRefreshAndKeepsTheHint() {
    fx.drain(worker);
    FakePr pr = repo.pr(2).push();
    fx.fake.failPath("/repos/acme/widgets/compare/" + pr.baseSha() + "..." + pr.headSha(), 503);
    fx.hint(id, 2, "synchronize");

    PassResult pass = worker.runOnce().orElseThrow();

    assertThat(pass.kind()).isEqualTo(WorkKind.REFRESH);
    assertThat(pass.succeeded()).isFalse();
    assertThat(fx.one("select count(*) from refresh_hint where number = 2", Long.class))
        .isEqualTo(1);
    assertThat(fx.one("select attempts from refresh_hint where number = 2", Integer.class))
        .as("not the PR's fault")
        .isZero();
  }
}
