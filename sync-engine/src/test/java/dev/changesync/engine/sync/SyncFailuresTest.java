package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.github.HttpGitHub;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.RequestKind;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Failures: recorded, backed off, never blocking other repositories or other PRs. */
class SyncFailuresTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private SyncFixture fx;
  private Worker worker;

  @BeforeEach
  void setUp() throws Exception {
    fx = new SyncFixture(db);
    worker = fx.worker("failures");
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  private static Instant instant(Object timestamptz) {
    return timestamptz == null ? null : ((java.sql.Timestamp) timestamptz).toInstant();
  }

  @Test
  void aPersistentFailureIsRecordedAndBackedOffWhileOtherRepositoriesProgress() {
    FakeRepo widgets = fx.fake.createRepo("acme", "widgets");
    widgets.openPrs(5);
    long gone = fx.trackWithBackfill(fx.fake.createRepo("acme", "gone"), 100);
    // 451 (blocked for legal reasons): a refusal GitHub keeps answering, unlike a 404 (which
    // stops the repository's retries altogether, see RepositoryLifecycleTest).
    fx.fake.failPath("/repos/acme/gone", 451);
    long ok = fx.trackWithBackfill(widgets, 0);

    List<PassResult> passes = fx.drain(worker);

    assertThat(passes).filteredOn(p -> p.repositoryId() == gone).hasSize(1);
    PassResult failed = passes.stream().filter(p -> p.repositoryId() == gone).findFirst().orElseThrow();
    assertThat(failed.succeeded()).isFalse();
    assertThat(passes).filteredOn(p -> p.repositoryId() == ok).allMatch(PassResult::succeeded);
    assertThat(fx.state(ok)).containsEntry("open_pr_current", 5);

    Map<String, Object> state = fx.state(gone);
    Instant now = fx.clock.instant();
    assertThat((String) state.get("last_error")).startsWith("fetch: ").contains("451");
    assertThat(state).containsEntry("fetch_failure_count", 1).containsEntry("dirty", true);
    assertThat(instant(state.get("fetch_retry_after")))
        .isEqualTo(now.plus(SyncFixture.SETTINGS.retryBackoffBase()));

    // Backed off: nothing to do until retry-after; then it fails again and waits twice as long.
    assertThat(worker.runOnce()).isEmpty();
    fx.clock.advance(SyncFixture.SETTINGS.retryBackoffBase());
    assertThat(worker.runOnce().orElseThrow().succeeded()).isFalse();
    state = fx.state(gone);
    assertThat(state).containsEntry("fetch_failure_count", 2);
    assertThat(instant(state.get("fetch_retry_after")))
        .isEqualTo(fx.clock.instant().plus(SyncFixture.SETTINGS.retryBackoffBase().multipliedBy(2)));

    // Meanwhile the healthy repository still gets its work.
    widgets.pr(2).push();
    fx.hint(ok, 2, "synchronize");
    assertThat(worker.runOnce().orElseThrow())
        .returns(WorkKind.REFRESH, PassResult::kind)
        .returns(ok, PassResult::repositoryId);

    // Once GitHub answers again, a success resets the backoff and clears the lane's error.
    fx.fake.clearFaults();
    fx.clock.advance(Duration.ofMinutes(1));
    PassResult recovered = worker.runOnce().orElseThrow();
    assertThat(recovered.repositoryId()).isEqualTo(gone);
    assertThat(recovered.succeeded()).isTrue();
    assertThat(fx.state(gone))
        .containsEntry("fetch_failure_count", 0)
        .containsEntry("fetch_retry_after", null)
        .containsEntry("last_error", null)
        .containsEntry("dirty", false);
  }

  private Worker impatientWorker() {
    HttpGitHub impatient =
        HttpGitHub.builder(
                GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                    .baseUrl(fx.fake.baseUrl())
                    .maxRateLimitWait(Duration.ofMinutes(1))
                    .build())
            .clock(fx.clock)
            .sleeper(fx.clock::advance)
            .build();
    return fx.worker("impatient", SyncFixture.SETTINGS, impatient);
  }

  @Test
  void anExhaustedRateLimitBacksTheLaneOffUntilGitHubsReset() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(3);
    long id = fx.track(repo);
    Worker limited = impatientWorker();
    fx.fake.exhaustRateLimit();
    Instant reset = fx.fake.rateLimitResetAt();

    PassResult pass = limited.runOnce().orElseThrow();

    assertThat(pass.succeeded()).isFalse();
    Map<String, Object> state = fx.state(id);
    assertThat(state).containsEntry("fetch_failure_count", 1);
    assertThat(instant(state.get("fetch_retry_after")))
        .as("not the 30 s backoff: GitHub's reset")
        .isAfterOrEqualTo(reset);
    assertThat(limited.runOnce()).isEmpty();
    fx.clock.set(instant(state.get("fetch_retry_after")));
    assertThat(limited.runOnce().orElseThrow().succeeded()).isTrue();
    assertThat(fx.state(id)).containsEntry("open_pr_total", 3);
  }

  @Test
  void aRateLimitDuringBackfillBlamesNoPull() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(4);
    long id = fx.trackWithBackfill(repo, 0);
    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REQUESTED_FETCH);
    Worker limited = impatientWorker();
    fx.fake.exhaustRateLimit();
    Instant reset = fx.fake.rateLimitResetAt();

    PassResult pass = limited.runOnce().orElseThrow();

    assertThat(pass.kind()).isEqualTo(WorkKind.BACKFILL);
    assertThat(pass.succeeded()).isFalse();
    assertThat(fx.inventory(id)).noneMatch(r -> "failed".equals(r.get("freshness")));
    assertThat(instant(fx.state(id).get("backfill_retry_after"))).isAfterOrEqualTo(reset);
  }

  @Test
  void aPullThatCannotBeRebuiltIsMarkedFailedAndTheWalkGoesOn() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(6);
    long id = fx.trackWithBackfill(repo, 0);
    fx.fake.malformedJson("/repos/acme/widgets/pulls/3");

    List<PassResult> passes = fx.drain(worker);

    assertThat(passes).allMatch(PassResult::succeeded);
    assertThat(fx.row(id, 3)).containsEntry("freshness", "failed");
    assertThat((String) fx.row(id, 3).get("last_error")).isNotBlank();
    assertThat(fx.state(id))
        .containsEntry("open_pr_current", 5)
        .containsEntry("open_pr_stale", 1)
        .containsEntry("open_pr_cursor_number", null);

    // A failed row alone does not restart the walk at once...
    fx.fake.clearMalformedJson();
    assertThat(worker.runOnce()).isEmpty();
    // ...a scan keeps it failed while its head has not moved...
    fx.requestFetch(id);
    fx.clock.advance(Duration.ofMinutes(2));
    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REQUESTED_FETCH);
    assertThat(fx.row(id, 3)).containsEntry("freshness", "failed");
    assertThat(worker.runOnce()).isEmpty();
    // ...and the walk retries it after failedPullRetryAfter.
    fx.clock.advance(SyncFixture.SETTINGS.failedPullRetryAfter());
    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.BACKFILL);
    assertThat(fx.row(id, 3)).containsEntry("freshness", "current").containsEntry("last_error", null);
    assertThat(fx.state(id)).containsEntry("open_pr_current", 6);
  }

  @Test
  void aPushGivesAFailedPullAnotherChanceAtOnce() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(3);
    long id = fx.trackWithBackfill(repo, 0);
    fx.fake.malformedJson("/repos/acme/widgets/pulls/2");
    fx.drain(worker);
    assertThat(fx.row(id, 2)).containsEntry("freshness", "failed");
    fx.fake.clearMalformedJson();

    repo.pr(2).push();
    fx.requestFetch(id);
    fx.clock.advance(Duration.ofMinutes(2));

    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REQUESTED_FETCH);
    assertThat(fx.row(id, 2))
        .as("failed only while its head stays; with no snapshot it is missing again")
        .containsEntry("freshness", null)
        .containsEntry("last_error", null);
    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.BACKFILL);
    assertThat(fx.row(id, 2)).containsEntry("freshness", "current");
  }

  @Test
  void severalPullsFailingInARowEndThePassWithBackoff() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(8);
    long id = fx.trackWithBackfill(repo, 0);
    assertThat(worker.runOnce().orElseThrow().kind()).isEqualTo(WorkKind.REQUESTED_FETCH);
    // 422 is each PR's own problem (a 5xx is GitHub's: see SyncInfrastructureFailuresTest).
    fx.fake.failNext(RequestKind.PULL, 10_000, 422);

    PassResult backfill = worker.runOnce().orElseThrow();

    assertThat(backfill.kind()).isEqualTo(WorkKind.BACKFILL);
    assertThat(backfill.succeeded()).isFalse();
    assertThat(fx.inventory(id)).filteredOn(r -> "failed".equals(r.get("freshness")))
        .hasSize(BackfillLane.MAX_CONSECUTIVE_FAILURES);
    Map<String, Object> state = fx.state(id);
    assertThat(state).containsEntry("backfill_failure_count", 1);
    assertThat((String) state.get("last_error")).startsWith("backfill: ");
    assertThat(instant(state.get("backfill_retry_after"))).isAfter(fx.clock.instant());
    assertThat(state.get("open_pr_cursor_number")).as("the walk resumes after them").isNotNull();
    assertThat(worker.runOnce()).as("backed off").isEmpty();

    // Once GitHub recovers, the walk goes on after the failed PRs; they get their retry later.
    fx.fake.clearFaults();
    fx.clock.advance(Duration.ofHours(1));
    fx.drain(worker);
    assertThat(fx.state(id))
        .containsEntry("backfill_failure_count", 0)
        .containsEntry("open_pr_current", 8 - BackfillLane.MAX_CONSECUTIVE_FAILURES);
    fx.clock.advance(SyncFixture.SETTINGS.failedPullRetryAfter());
    fx.drain(worker);
    assertThat(fx.state(id)).containsEntry("open_pr_current", 8);
  }

}
