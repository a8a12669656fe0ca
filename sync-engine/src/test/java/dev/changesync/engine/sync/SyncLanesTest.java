package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeFile;
import dev.changesync.testkit.github.FakePr;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import dev.changesync.testkit.github.RequestKind;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fetch, refresh and backfill lanes end to end: real PostgreSQL, the HTTP client against a fake
 * GitHub over real HTTP, one worker driven pass by pass with {@link Worker#runOnce()} on a clock
 * the test moves.
 */
class SyncLanesTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private SyncFixture fx;
  private Worker worker;

  @BeforeEach
  void setUp() throws Exception {
    fx = new SyncFixture(db);
    worker = fx.worker("lanes");
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  /** Asserts the inventory and snapshots of {@code repo} match the fake exactly. */
  private void assertConverged(long id, FakeRepo repo) {
    List<FakePr> open = repo.openPulls();
    List<Map<String, Object>> rows = fx.inventory(id);
    assertThat(rows)
        .extracting(r -> r.get("number"))
        .containsExactlyInAnyOrderElementsOf(open.stream().map(FakePr::number).toList());
    Map<Integer, FakePr> byNumber =
        open.stream().collect(Collectors.toMap(FakePr::number, Function.identity()));
    for (Map<String, Object> row : rows) {
      FakePr pr = byNumber.get((Integer) row.get("number"));
      assertThat(row.get("freshness")).as("freshness of #%s", pr.number()).isEqualTo("current");
      assertThat(row.get("head_sha")).isEqualTo(pr.headSha());
      assertThat(row.get("base_sha")).isEqualTo(pr.baseSha());
      assertThat(row.get("draft")).isEqualTo(pr.draft());
    }
    Map<Integer, Integer> files = fx.fileCounts(id);
    Map<Integer, Integer> hunks = fx.hunkCounts(id);
    for (FakePr pr : open) {
      assertThat(files.getOrDefault(pr.number(), 0))
          .as("files of #%s", pr.number())
          .isEqualTo(Math.min(pr.files().size(), 3_000));
      assertThat(hunks.getOrDefault(pr.number(), 0))
          .as("hunks of #%s", pr.number())
          .isEqualTo(pr.hunkCount());
    }
    Map<String, Object> state = fx.state(id);
    assertThat(state)
        .containsEntry("open_pr_total", open.size())
        .containsEntry("open_pr_current", open.size())
        .containsEntry("open_pr_stale", 0)
        .containsEntry("open_pr_missing", 0)
        .containsEntry("open_pr_cursor_number", null);
  }

  @Test
  void backfillOfARepositoryWith250OpenPullsConverges() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(200); // 1-12 files each, every tenth a draft, binary and renamed files among them
    repo.openPrs(30, PrSpec.files(9).withBinaryFiles(2).withRenamedFiles(3));
    repo.openPrs(19, PrSpec.files(4).withDraft(true));
    repo.openPr(PrSpec.files(250)); // three pages of files
    long id = fx.trackWithBackfill(repo, 10);

    List<PassResult> passes = fx.drain(worker);

    assertThat(passes).allMatch(PassResult::succeeded, "every pass succeeded");
    assertThat(passes.get(0).kind()).isEqualTo(WorkKind.REQUESTED_FETCH);
    assertThat(passes).filteredOn(p -> p.kind() == WorkKind.BACKFILL).hasSize(3);
    assertConverged(id, repo);
    // Binary files and pure renames have no patch; renames keep their previous path.
    long binaries =
        repo.openPulls().stream().flatMap(pr -> pr.files().stream()).filter(FakeFile::binary).count();
    long renames =
        repo.openPulls().stream()
            .flatMap(pr -> pr.files().stream())
            .filter(f -> f.previousFilename() != null)
            .count();
    long withoutPatch =
        repo.openPulls().stream()
            .flatMap(pr -> pr.files().stream())
            .filter(f -> f.patch() == null)
            .count();
    assertThat(binaries).isPositive();
    assertThat(renames).isPositive();
    assertThat(fx.one("select count(*) from snapshot_file where patch is null", Long.class))
        .isEqualTo(withoutPatch);
    assertThat(fx.one("select count(*) from snapshot_file where previous_path is not null", Long.class))
        .isEqualTo(renames);
    Map<String, Object> state = fx.state(id);
    assertThat(state.get("dirty")).isEqualTo(false);
    assertThat(state.get("last_open_pr_scan_at")).isNotNull();
    assertThat(state.get("last_backfill_finished_at")).isNotNull();
    // Every PR cost exactly one GET of the pull and its pages of files.
    assertThat(fx.requestsPerPull(RequestKind.PULL).values()).containsOnly(1);
  }

  @Test
  void aSecondFetchWithNothingChangedCostsNoRateLimit() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(250);
    long id = fx.track(repo); // no backfill: the scans alone
    assertThat(fx.drain(worker)).extracting(PassResult::kind).containsExactly(WorkKind.REQUESTED_FETCH);
    assertThat(fx.fake.requests(RequestKind.PULLS_LIST, 200)).isEqualTo(3);
    fx.fake.resetCounters();

    fx.requestFetch(id);
    fx.clock.advance(SyncFixture.SETTINGS.minFetchInterval().plus(SyncFixture.SETTINGS.webhookDebounce()));
    List<PassResult> passes = fx.drain(worker);

    assertThat(passes).extracting(PassResult::kind).containsExactly(WorkKind.REQUESTED_FETCH);
    assertThat(fx.fake.requests(RequestKind.PULLS_LIST, 304)).isEqualTo(3);
    assertThat(fx.fake.totalRequests()).isEqualTo(3);
    assertThat(fx.fake.rateLimitedRequests()).isZero();
    Map<String, Object> state = fx.state(id);
    assertThat(state)
        .containsEntry("dirty", false)
        .containsEntry("open_pr_total", 250)
        .containsEntry("open_pr_missing", 250);
    assertThat(fx.inventory(id)).extracting(r -> r.get("number"))
        .containsExactlyInAnyOrderElementsOf(repo.openPulls().stream().map(FakePr::number).toList());
  }

  @Test
  void aChangedPullCostsAtMostThreeRateLimitedRequestsPlusOnePerFurtherHundredFiles() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(30);
    FakePr big = repo.openPr(PrSpec.files(20));
    long id = fx.trackWithBackfill(repo, 0);
    fx.drain(worker);

    // Through a webhook: the refresh lane. The PR, its files, and (its head moved) its merge base.
    fx.fake.resetCounters();
    big.push(PrSpec.files(250));
    fx.hint(id, big.number(), "synchronize");
    fx.drain(worker);
    assertThat(fx.fake.rateLimitedRequests()).isLessThanOrEqualTo(3 + (250 - 1) / 100);
    assertThat(fx.fake.requests(RequestKind.PULLS_LIST)).isZero();
    assertThat(fx.fake.requests(RequestKind.COMPARE)).isEqualTo(1);
    assertConverged(id, repo);

    // Through a scan: the fetch lane notices (one list page changed), the backfill rebuilds.
    fx.fake.resetCounters();
    FakePr small = repo.pr(3).push(PrSpec.files(7));
    fx.requestFetch(id);
    fx.clock.advance(Duration.ofMinutes(2));
    fx.drain(worker);
    assertThat(fx.fake.requests(RequestKind.PULL)).isEqualTo(1);
    assertThat(fx.fake.requests(RequestKind.FILES)).isEqualTo(1);
    assertThat(fx.fake.requests(RequestKind.COMPARE)).isEqualTo(1);
    assertThat(fx.fake.rateLimitedRequests())
        .as("one changed list page, then the PR, its files and its merge base")
        .isLessThanOrEqualTo(1 + 3);
    assertThat(fx.row(id, small.number())).containsEntry("head_sha", small.headSha());
    assertConverged(id, repo);
  }

  @Test
  void aPushAndItsHintRefreshOnlyThatPull() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(12);
    long id = fx.trackWithBackfill(repo, 0);
    fx.drain(worker);
    fx.fake.resetCounters();

    FakePr pushed = repo.pr(5).push();
    fx.hint(id, 5, "synchronize");
    List<PassResult> passes = fx.drain(worker);

    assertThat(passes).extracting(PassResult::kind).containsExactly(WorkKind.REFRESH);
    assertThat(fx.fake.requests(RequestKind.PULLS_LIST)).isZero();
    assertThat(fx.requestsPerPull(RequestKind.PULL)).containsOnlyKeys(5);
    assertThat(fx.requestsPerPull(RequestKind.FILES)).containsOnlyKeys(5);
    assertThat(fx.row(id, 5))
        .containsEntry("head_sha", pushed.headSha())
        .containsEntry("freshness", "current");
    assertThat(fx.one("select count(*) from refresh_hint", Long.class)).isZero();
    assertConverged(id, repo);
  }

  @Test
  void aClosedPullLosesItsInventoryRowButKeepsItsSnapshot() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(6);
    long id = fx.trackWithBackfill(repo, 0);
    fx.drain(worker);

    repo.pr(2).close();
    fx.hint(id, 2, "closed");
    fx.requestFetch(id);
    assertThat(fx.drain(worker)).extracting(PassResult::kind).containsExactly(WorkKind.REFRESH);
    assertThat(fx.row(id, 2)).isNull();
    assertThat(fx.state(id)).containsEntry("open_pr_total", 5).containsEntry("open_pr_current", 5);
    assertThat(fx.one("select state from pr_snapshot where number = 2", String.class))
        .isEqualTo("closed");

    // A PR closed without a webhook goes with the next complete scan.
    repo.pr(4).merge();
    fx.clock.advance(Duration.ofMinutes(2));
    assertThat(fx.drain(worker))
        .extracting(PassResult::kind)
        .containsExactly(WorkKind.REQUESTED_FETCH);
    assertThat(fx.row(id, 4)).isNull();
    assertConverged(id, repo);

    // Reopened: the refresh inserts the row again.
    repo.pr(2).reopen();
    fx.hint(id, 2, "reopened");
    fx.drain(worker);
    assertThat(fx.row(id, 2)).containsEntry("freshness", "current");
  }

  @Test
  void aBackfillThatFindsAPullClosedDeletesItsRow() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(5);
    long id = fx.track(repo);
    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REQUESTED_FETCH);
    repo.pr(2).close(); // no webhook, no scan since
    fx.jdbi.useHandle(
        h -> h.execute("update repository_sync_state set backfill_mode = 'open_only', backfill_retry_after = null"));

    assertThat(fx.drain(worker)).extracting(PassResult::kind).containsExactly(WorkKind.BACKFILL);

    assertThat(fx.row(id, 2)).isNull();
    assertThat(fx.requestsPerPull(RequestKind.FILES)).doesNotContainKey(2);
    assertConverged(id, repo);
  }

  @Test
  void aFailingListenerNeverBreaksAPass() {
    SyncListener broken =
        new SyncListener() {
          @Override
          public void passStarted(WorkKind kind, long repositoryId) {
            throw new IllegalStateException("listener bug");
          }

          @Override
          public void passFinished(PassResult result) {
            throw new IllegalStateException("listener bug");
          }
        };
    Worker listened =
        fx.worker("listened", SyncFixture.SETTINGS, fx.github, b -> b.listener(broken));
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(3);
    long id = fx.trackWithBackfill(repo, 0);

    assertThat(fx.drain(listened)).hasSize(2).allMatch(PassResult::succeeded);
    assertConverged(id, repo);
  }

  @Test
  void aMovedBaseMakesThePullStaleUntilBackfillRebuildsIt() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(8);
    long id = fx.trackWithBackfill(repo, 0);
    fx.drain(worker);

    FakePr moved = repo.pr(6).moveBase();
    fx.requestFetch(id);
    fx.clock.advance(Duration.ofMinutes(2));
    PassResult fetch = worker.runOnce().orElseThrow();

    assertThat(fetch.kind()).isEqualTo(WorkKind.REQUESTED_FETCH);
    assertThat(fx.row(id, 6))
        .containsEntry("freshness", "stale_base_moved")
        .containsEntry("base_sha", moved.baseSha());
    assertThat(fx.state(id)).containsEntry("open_pr_stale", 1).containsEntry("open_pr_current", 7);

    PassResult backfill = worker.runOnce().orElseThrow();
    assertThat(backfill.kind()).isEqualTo(WorkKind.BACKFILL);
    assertThat(fx.row(id, 6)).containsEntry("freshness", "current");
    assertThat(fx.one("select base_sha from pr_snapshot where number = 6", String.class))
        .isEqualTo(moved.baseSha());
    assertThat(worker.runOnce()).isEmpty();
    assertConverged(id, repo);
  }
}
