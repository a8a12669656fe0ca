package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.github.GitHubException;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakePr;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What happens when the world changes while a pass runs. */
class SyncRacesTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private SyncFixture fx;
  private HookedGitHub github;
  private Worker worker;

  @BeforeEach
  void setUp() throws Exception {
    fx = new SyncFixture(db);
    github = new HookedGitHub(fx.github);
    worker = fx.worker("races", SyncFixture.SETTINGS, github);
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  @Test
  void theDirtyFlagSurvivesAFetchRequestThatArrivesDuringThePass() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(150, PrSpec.files(1)); // two pages
    long id = fx.track(repo);
    AtomicBoolean interfere = new AtomicBoolean(true);
    github.afterListPage(
        page -> {
          if (page == 0 && interfere.get()) {
            fx.requestFetch(id); // a webhook arrives between the pages
          }
        });

    PassResult first = worker.runOnce().orElseThrow();

    assertThat(first.kind()).isEqualTo(WorkKind.REQUESTED_FETCH);
    assertThat(first.succeeded()).isTrue();
    Map<String, Object> state = fx.state(id);
    assertThat(state)
        .containsEntry("dirty", true)
        .containsEntry("fetch_pass_seq", 1L)
        .containsEntry("fetch_request_seq", 2L)
        .containsEntry("open_pr_total", 150);
    assertThat(state.get("last_open_pr_scan_at")).isNotNull();

    // Not before the debounce and the minimum interval; then a quiet pass clears it.
    interfere.set(false);
    assertThat(worker.runOnce()).isEmpty();
    fx.clock.advance(SyncFixture.SETTINGS.minFetchInterval());
    PassResult second = worker.runOnce().orElseThrow();
    assertThat(second.kind()).isEqualTo(WorkKind.REQUESTED_FETCH);
    assertThat(fx.state(id))
        .containsEntry("dirty", false)
        .containsEntry("dirty_since", null)
        .containsEntry("fetch_pass_seq", 2L);
  }

  @Test
  void aHintThatArrivesDuringItsRefreshSurvivesIt() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(4);
    long id = fx.trackWithBackfill(repo, 0);
    fx.drain(worker);

    FakePr pr = repo.pr(3);
    pr.push();
    fx.hint(id, 3, "synchronize");
    AtomicBoolean once = new AtomicBoolean(true);
    github.beforePull(
        number -> {
          if (number == 3 && once.getAndSet(false)) {
            pr.push(); // another push, and its webhook, while the refresh is under way
            fx.hint(id, 3, "synchronize");
          }
        });

    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REFRESH);
    assertThat(fx.one("select count from refresh_hint where number = 3", Integer.class))
        .as("the second webhook's hint is still pending")
        .isEqualTo(2);

    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REFRESH);
    assertThat(fx.one("select count(*) from refresh_hint", Long.class)).isZero();
    assertThat(fx.row(id, 3)).containsEntry("head_sha", pr.headSha()).containsEntry("freshness", "current");
  }

  @Test
  void aHintWhoseWebhookArrivesDuringAFailedRefreshIsTriedAgainAtOnce() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(4);
    long id = fx.trackWithBackfill(repo, 0);
    fx.drain(worker);

    FakePr pr = repo.pr(3);
    pr.push();
    fx.hint(id, 3, "synchronize");
    AtomicBoolean once = new AtomicBoolean(true);
    github.beforePull(
        number -> {
          if (number == 3 && once.getAndSet(false)) {
            pr.push(); // another push, and its webhook, just before this attempt fails
            fx.hint(id, 3, "synchronize");
            throw new GitHubException("GET pulls/3 -> 422: Validation Failed", 422);
          }
        });

    PassResult failed = worker.runOnce().orElseThrow();

    assertThat(failed.kind()).isEqualTo(WorkKind.REFRESH);
    assertThat(failed.detail()).isEqualTo("0 hints refreshed, 1 failed");
    assertThat(fx.one("select attempts from refresh_hint where number = 3", Integer.class))
        .as("the failure is not held against the newer webhook's hint")
        .isZero();
    // No backoff: the same instant, the hint is refreshed.
    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REFRESH);
    assertThat(fx.one("select count(*) from refresh_hint", Long.class)).isZero();
    assertThat(fx.row(id, 3)).containsEntry("head_sha", pr.headSha()).containsEntry("freshness", "current");
  }

  @Test
  void aPullARefreshFoundOpenDuringAScanKeepsItsRow() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(150, PrSpec.files(1));
    long id = fx.trackWithBackfill(repo, 0);
    fx.drain(worker);

    Worker other = fx.worker("refresher");
    fx.requestFetch(id);
    fx.clock.advance(Duration.ofMinutes(2));
    AtomicBoolean once = new AtomicBoolean(true);
    int[] opened = new int[1];
    github.afterListPage(
        page -> {
          if (page == 0 && once.getAndSet(false)) {
            // The first page is listed; now a PR opens (it will not be on page 2) and its webhook
            // is refreshed by another worker before the scan ends.
            fx.clock.advance(Duration.ofSeconds(1));
            opened[0] = repo.openPr(PrSpec.files(2)).number();
            fx.hint(id, opened[0], "opened");
            assertThat(other.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REFRESH);
          }
        });

    PassResult scan = worker.runOnce().orElseThrow();

    assertThat(scan.kind()).isEqualTo(WorkKind.REQUESTED_FETCH);
    assertThat(fx.row(id, opened[0])).containsEntry("freshness", "current");
    assertThat(fx.state(id)).containsEntry("open_pr_total", 151).containsEntry("open_pr_current", 151);
  }
}
