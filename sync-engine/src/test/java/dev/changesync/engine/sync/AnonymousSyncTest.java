package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.github.HttpGitHub;
import dev.changesync.engine.lease.WorkerRegistry;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.engine.service.StatusService;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeRepo;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Workers without GitHub credentials: public repositories sync anonymously at the fake's 60
 * requests an hour, the budget left shows in the repository status and the worker list, an
 * exhausted budget ends the pass until GitHub's reset, and a private repository (404) says so.
 */
class AnonymousSyncTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private SyncFixture fx;
  private Worker worker;
  private WorkerRegistry registry;
  private StatusService status;

  @BeforeEach
  void setUp() throws Exception {
    fx = new SyncFixture(db, true);
    HttpGitHub impatient =
        HttpGitHub.builder(
                GitHubSettings.builder(GitHubAuth.anonymous())
                    .baseUrl(fx.fake.baseUrl())
                    .maxRateLimitWait(Duration.ofMinutes(1))
                    .build())
            .clock(fx.clock)
            .sleeper(fx.clock::advance)
            .build();
    worker = fx.worker("anonymous", SyncFixture.SETTINGS, impatient);
    registry = new WorkerRegistry(fx.jdbi, fx.clock);
    registry.register(
        new WorkerRegistry.Registration(worker.owner(), "host", 1, "test", Optional.empty()));
    status = new StatusService(fx.jdbi, DbTime.injected(fx.clock));
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  @Test
  void aPublicRepositorySyncsAndTheBudgetLeftShowsInStatusAndWorkers() {
    FakeRepo repo = fx.fake.createRepo("octocat", "hello");
    repo.openPrs(3);
    fx.trackWithBackfill(repo, 0);

    assertThat(fx.drain(worker)).isNotEmpty().allMatch(PassResult::succeeded);
    worker.touch();

    RepositoryStatus s = status.repositoryStatus(RepoName.parse("octocat/hello"));
    assertThat(s.openPrCurrent()).isEqualTo(3);
    assertThat(fx.fake.rateLimitRemaining()).isLessThan(60);
    assertThat(s.githubRateLimitRemaining()).contains(fx.fake.rateLimitRemaining());
    assertThat(s.githubRateLimitResetAt()).contains(DbTime.truncate(fx.fake.rateLimitResetAt()));
    assertThat(registry.list(Duration.ofMinutes(1)))
        .singleElement()
        .satisfies(
            w -> assertThat(w.githubRateLimitRemaining()).contains(fx.fake.rateLimitRemaining()));
    assertThat(fx.fake.requestLog())
        .allSatisfy(r -> assertThat(r.principal()).contains("anonymous"));
  }

  @Test
  void anExhaustedBudgetEndsThePassUntilTheResetAndShowsInStatus() {
    FakeRepo repo = fx.fake.createRepo("octocat", "hello");
    repo.openPrs(2);
    long id = fx.track(repo);
    fx.fake.exhaustRateLimit();
    Instant reset = fx.fake.rateLimitResetAt();

    PassResult pass = worker.runOnce().orElseThrow();
    worker.touch();

    assertThat(pass.succeeded()).isFalse();
    Map<String, Object> state = fx.state(id);
    assertThat(((java.sql.Timestamp) state.get("fetch_retry_after")).toInstant())
        .isAfterOrEqualTo(reset);
    RepositoryStatus s = status.repositoryStatus(RepoName.parse("octocat/hello"));
    assertThat(s.lastError()).hasValueSatisfying(e -> assertThat(e).contains("rate limit"));
    assertThat(s.githubRateLimitRemaining()).contains(0);
    assertThat(worker.runOnce()).as("no retry before the reset").isEmpty();
  }

  @Test
  void aPrivateRepositoryRecordsAClearErrorAndBacksOff() {
    FakeRepo repo = fx.fake.createRepo("octocat", "secret");
    fx.fake.notFound("octocat", "secret");
    fx.track(repo);

    PassResult pass = worker.runOnce().orElseThrow();

    assertThat(pass.succeeded()).isFalse();
    assertThat(status.repositoryStatus(RepoName.parse("octocat/secret")).lastError())
        .hasValueSatisfying(
            e ->
                assertThat(e)
                    .startsWith(
                        "fetch: repository not found or private (404): set"
                            + " CHANGESYNC_GITHUB_TOKEN to a token that can read it"));
    int requests = fx.fake.totalRequests();
    assertThat(worker.runOnce()).as("backed off, no retry storm").isEmpty();
    assertThat(fx.fake.totalRequests()).isEqualTo(requests);
  }
}
