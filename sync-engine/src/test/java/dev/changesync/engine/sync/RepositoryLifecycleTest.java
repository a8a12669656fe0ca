package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.AdminService;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.GitHubUnavailableException;
import dev.changesync.engine.service.NotFoundException;
import dev.changesync.engine.service.RepositoryCatalog;
import dev.changesync.engine.service.RepositoryList;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.engine.service.StatusService;
import dev.changesync.engine.service.SyncPhase;
import dev.changesync.engine.service.UntrackedRepository;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.HeartbeatResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseLostException;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.RequestKind;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 16, the repository lifecycle against real PostgreSQL and the fake GitHub over HTTP:
 * tracking checks GitHub first, the paged list, untracking (also while a worker holds a lease),
 * mode {@code off} stopping every lane, a repository GitHub says is gone no longer retried, an
 * admin fetch lifting the fetch lane's backoff, and the phases a repository goes through.
 */
class RepositoryLifecycleTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final RepoName WIDGETS = RepoName.of("acme", "widgets");

  private SyncFixture fx;
  private AdminService admin;
  private StatusService status;
  private RepositoryCatalog catalog;
  private Worker worker;

  @BeforeEach
  void setUp() throws Exception {
    fx = new SyncFixture(db);
    DbTime time = DbTime.injected(fx.clock);
    admin = new AdminService(fx.jdbi, time, Optional.of(fx.github));
    status = new StatusService(fx.jdbi, time);
    catalog = new RepositoryCatalog(fx.jdbi, time);
    worker = fx.worker("lifecycle");
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  private long count(String sql) {
    return fx.jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  // --- tracking ---------------------------------------------------------------------------------

  @Test
  void trackingARepositoryGitHubDoesNotKnowStoresNothing() {
    assertThatThrownBy(
            () -> admin.configureBackfill(RepoName.of("acme", "doesnotexist"), BackfillMode.OPEN_ONLY, 0))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("acme/doesnotexist was not found on GitHub")
        .hasMessageContaining("not tracked");

    assertThat(count("select count(*) from repository")).isZero();
    assertThat(count("select count(*) from lease")).isZero();
    assertThat(fx.fake.requests(RequestKind.REPOSITORY, 404)).isEqualTo(1);
  }

  @Test
  void trackingWhileGitHubFailsStoresNothingAndSaysGitHubCouldNotAnswer() {
    fx.fake.createRepo("acme", "widgets");
    fx.fake.failPath("/repos/acme/widgets", 451);

    assertThatThrownBy(() -> admin.configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0))
        .isInstanceOf(GitHubUnavailableException.class)
        .hasMessageContaining("could not check repository acme/widgets on GitHub");
    assertThat(count("select count(*) from repository")).isZero();

    fx.fake.clearFaults();
    assertThat(admin.configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0).fullName())
        .isEqualTo("acme/widgets");
    // Reconfiguring a tracked repository does not ask GitHub again.
    int asked = fx.fake.requests(RequestKind.REPOSITORY);
    admin.configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 7);
    assertThat(fx.fake.requests(RequestKind.REPOSITORY)).isEqualTo(asked);
  }

  // --- listing ----------------------------------------------------------------------------------

  @Test
  void theListPagesThroughRepositoriesInNameOrderWithTheirCountsAndBackoff() {
    for (String name : List.of("delta", "Alpha", "charlie", "bravo", "echo")) {
      fx.fake.createRepo("acme", name).openPrs(2);
      admin.configureBackfill(RepoName.of("acme", name), BackfillMode.OPEN_ONLY, 0);
    }
    admin.configureBackfill(RepoName.of("acme", "echo"), BackfillMode.OFF, 3);
    fx.fake.failPath("/repos/acme/charlie/pulls", 502);
    fx.drain(worker);

    RepositoryList first = catalog.list(2, Optional.empty());
    assertThat(first.repositories())
        .extracting(RepositoryList.Entry::fullName)
        .containsExactly("acme/Alpha", "acme/bravo");
    assertThat(first.next()).contains("acme/bravo");
    RepositoryList second = catalog.list(2, first.next().map(RepoName::parse));
    assertThat(second.repositories())
        .extracting(RepositoryList.Entry::fullName)
        .containsExactly("acme/charlie", "acme/delta");
    RepositoryList last = catalog.list(2, second.next().map(RepoName::parse));
    assertThat(last.repositories()).extracting(RepositoryList.Entry::fullName).containsExactly("acme/echo");
    assertThat(last.next()).isEmpty();

    RepositoryList.Entry alpha = first.repositories().get(0);
    assertThat(alpha.openPrTotal()).isEqualTo(2);
    assertThat(alpha.openPrCurrent()).isEqualTo(2);
    assertThat(alpha.converged()).isTrue();
    assertThat(alpha.phase()).isEqualTo(SyncPhase.IDLE);
    assertThat(alpha.nextRetryAt()).isEmpty();

    RepositoryList.Entry charlie = second.repositories().get(0);
    assertThat(charlie.fetchFailureCount()).isEqualTo(1);
    assertThat(charlie.lastError()).hasValueSatisfying(e -> assertThat(e).contains("502"));
    assertThat(charlie.nextRetryAt()).isPresent();
    assertThat(charlie.nextRetryAt().get()).isAfter(second.now());
    assertThat(charlie.phase()).isEqualTo(SyncPhase.BACKING_OFF);
    assertThat(charlie.converged()).isFalse();

    RepositoryList.Entry echo = last.repositories().get(0);
    assertThat(echo.backfillMode()).isEqualTo(BackfillMode.OFF);
    assertThat(echo.backfillPriority()).isEqualTo(3);
    assertThat(echo.openPrTotal()).as("mode off: never scanned").isZero();
    assertThat(echo.phase()).isEqualTo(SyncPhase.IDLE);
  }

  // --- mode off ---------------------------------------------------------------------------------

  @Test
  void modeOffMeansNoWorkOfAnyLane() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(3);
    long id = admin.configureBackfill(WIDGETS, BackfillMode.OFF, 0).repositoryId();
    fx.hint(id, 1, "synchronize");
    fx.clock.advance(Duration.ofDays(1)); // past every debounce, interval and maximum age

    assertThat(worker.runOnce()).isEmpty();
    assertThat(fx.fake.requests(RequestKind.PULLS_LIST)).isZero();

    admin.configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0);
    assertThat(fx.drain(worker)).isNotEmpty();
    assertThat(status.repositoryStatus(WIDGETS).converged()).isTrue();
  }

  // --- GitHub says the repository is gone ---------------------------------------------------------

  @Test
  void aRepositoryGitHubAnswers404ForIsNotRetriedUntilAnAdminFetch() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(2);
    admin.configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0);
    fx.fake.notFound("acme", "widgets");

    List<PassResult> passes = fx.drain(worker);
    assertThat(passes).hasSize(1);
    assertThat(passes.get(0).succeeded()).isFalse();
    RepositoryStatus gone = status.repositoryStatus(WIDGETS);
    assertThat(gone.githubNotFoundAt()).contains(DbTime.truncate(fx.clock.instant()));
    assertThat(gone.lastError())
        .hasValueSatisfying(
            e -> assertThat(e).contains("404").contains("not retried until it is tracked again"));
    assertThat(gone.phase()).isEqualTo(SyncPhase.BACKING_OFF);

    // Past any backoff: still nothing, and GitHub is not asked again.
    int asked = fx.fake.totalRequests();
    fx.clock.advance(Duration.ofDays(2));
    assertThat(worker.runOnce()).isEmpty();
    assertThat(fx.fake.totalRequests()).isEqualTo(asked);

    // It is back (a visibility change): an admin fetch lifts the stop.
    fx.fake.clearNotFound("acme", "widgets");
    RepositoryStatus requested = admin.requestFetch(WIDGETS);
    assertThat(requested.githubNotFoundAt()).isEmpty();
    assertThat(requested.fetchNextAttemptAt()).isEmpty();
    fx.drain(worker);
    RepositoryStatus back = status.repositoryStatus(WIDGETS);
    assertThat(back.converged()).isTrue();
    assertThat(back.fetchFailureCount()).isZero();
    assertThat(back.phase()).isEqualTo(SyncPhase.IDLE);
  }

  // --- backoff and an admin fetch -----------------------------------------------------------------

  @Test
  void anAdminFetchLiftsTheFetchLanesBackoff() {
    FakeRepo repo = fx.fake.createRepo("acme", "widgets");
    repo.openPrs(2);
    admin.configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0);
    fx.fake.failPath("/repos/acme/widgets/pulls", 502);
    fx.drain(worker);
    fx.drain(worker); // nothing: backing off
    fx.clock.advance(SyncFixture.SETTINGS.retryBackoffBase());
    fx.drain(worker); // fails again: 2 failures, twice the wait

    RepositoryStatus backingOff = status.repositoryStatus(WIDGETS);
    assertThat(backingOff.fetchFailureCount()).isEqualTo(2);
    assertThat(backingOff.fetchNextAttemptAt())
        .contains(
            DbTime.truncate(fx.clock.instant())
                .plus(SyncFixture.SETTINGS.retryBackoffBase().multipliedBy(2)));
    assertThat(backingOff.phase()).isEqualTo(SyncPhase.BACKING_OFF);
    assertThat(backingOff.converged()).isFalse();

    fx.fake.clearFaults();
    RepositoryStatus requested = admin.requestFetch(WIDGETS);
    assertThat(requested.fetchNextAttemptAt()).isEmpty();
    assertThat(requested.fetchFailureCount()).as("the count stays until a success").isEqualTo(2);
    assertThat(requested.phase()).isEqualTo(SyncPhase.WAITING_DEBOUNCE);

    fx.drain(worker); // never scanned: due at once, no debounce
    RepositoryStatus done = status.repositoryStatus(WIDGETS);
    assertThat(done.fetchFailureCount()).isZero();
    assertThat(done.converged()).isTrue();
  }

  // --- logs -------------------------------------------------------------------------------------

  @Test
  void anExpectedFailureIsOneLogLineWithItsCausesAndNoStackTrace() {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Worker.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    ch.qos.logback.classic.Level level = logger.getLevel();
    logger.setLevel(ch.qos.logback.classic.Level.INFO); // the test configuration keeps it quiet
    logger.addAppender(appender);
    try {
      fx.fake.createRepo("acme", "widgets").openPrs(1);
      admin.configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0);
      fx.fake.failPath("/repos/acme/widgets/pulls", 503);

      fx.drain(worker);
    } finally {
      logger.detachAppender(appender);
      logger.setLevel(level);
    }

    List<ch.qos.logback.classic.spi.ILoggingEvent> failures =
        appender.list.stream().filter(e -> e.getFormattedMessage().contains("failed after")).toList();
    assertThat(failures).hasSize(1);
    ch.qos.logback.classic.spi.ILoggingEvent failure = failures.get(0);
    assertThat(failure.getThrowableProxy()).as("no stack trace").isNull();
    assertThat(failure.getFormattedMessage())
        .matches("REQUESTED_FETCH of repository \\d+ failed after \\d+ms: .*")
        .contains("GitHubException")
        .contains("503")
        .doesNotContain("PT");
  }

  // --- phases -----------------------------------------------------------------------------------

  @Test
  void aNewRepositoryIsNotConvergedBeforeItsFirstScanEvenWithNoOpenPullRequests() {
    fx.fake.createRepo("acme", "widgets"); // no open PRs: 0 = 0 before the first scan
    RepositoryStatus tracked = admin.configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0);
    assertThat(tracked.openPrTotal()).isEqualTo(tracked.openPrCurrent());
    assertThat(tracked.converged()).isFalse();
    assertThat(tracked.phase()).isEqualTo(SyncPhase.WAITING_DEBOUNCE);

    fx.drain(worker);
    RepositoryStatus scanned = status.repositoryStatus(WIDGETS);
    assertThat(scanned.converged()).isTrue();
    assertThat(scanned.phase()).isEqualTo(SyncPhase.IDLE);
  }

  @Test
  void aHeldLeaseShowsAsItsLanesPhase() {
    long id = track(2);
    Lease fetch = claim(id, Lanes.FETCH);
    assertThat(status.repositoryStatus(WIDGETS).phase()).isEqualTo(SyncPhase.SCANNING);
    fx.store.release(fetch, dev.changesync.lease.Completion.none());
    claim(id, Lanes.BACKFILL);
    assertThat(status.repositoryStatus(WIDGETS).phase()).isEqualTo(SyncPhase.BACKFILLING);
  }

  // --- untracking -------------------------------------------------------------------------------

  private long track(int openPrs) {
    fx.fake.createRepo("acme", "widgets").openPrs(openPrs);
    return admin.configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0).repositoryId();
  }

  private Lease claim(long id, String lane) {
    ClaimResult result =
        fx.store.claim(Lanes.key(id, lane), OwnerId.newIncarnation("holder"), LeasePolicy.defaults());
    assertThat(result).isInstanceOf(ClaimResult.Granted.class);
    return ((ClaimResult.Granted) result).lease();
  }

  @Test
  void untrackingRemovesEverythingInOneGoAndRecordsIt() {
    long id = track(3);
    fx.drain(worker);
    fx.hint(id, 2, "synchronize");
    assertThat(count("select count(*) from pr_snapshot")).isEqualTo(3);

    UntrackedRepository removed = admin.untrack(WIDGETS, "ops-test");

    assertThat(removed.repositoryId()).isEqualTo(id);
    assertThat(removed.openPrs()).isEqualTo(3);
    assertThat(removed.snapshots()).isEqualTo(3);
    assertThat(removed.pendingRefreshes()).isEqualTo(1);
    assertThat(removed.leases()).extracting(UntrackedRepository.Lease::lane)
        .containsExactlyInAnyOrder("fetch", "refresh", "backfill");
    for (String table :
        List.of("repository", "repository_sync_state", "open_pr", "pr_snapshot", "snapshot_file",
            "snapshot_hunk", "refresh_hint", "lease")) {
      assertThat(count("select count(*) from " + table)).as(table).isZero();
    }
    assertThat(
            count(
                "select count(*) from lease_event where kind = 'manually_released'"
                    + " and resource = 'repo:" + id + "' and detail like '%untracked by ops-test'"))
        .isEqualTo(3);
    assertThatThrownBy(() -> status.repositoryStatus(WIDGETS)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> admin.untrack(WIDGETS, "ops-test")).isInstanceOf(NotFoundException.class);
    assertThat(worker.runOnce()).isEmpty();

    // Tracked again later: a fresh start, with tokens above every earlier one.
    long again = admin.configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0).repositoryId();
    assertThat(again).isNotEqualTo(id);
    fx.drain(worker);
    assertThat(status.repositoryStatus(WIDGETS).converged()).isTrue();
  }

  @Test
  void untrackingTakesAHeldLeaseFromItsHolderWhoseWritesAndHeartbeatsThenFail() {
    long id = track(1);
    Lease held = claim(id, Lanes.BACKFILL);

    UntrackedRepository removed = admin.untrack(WIDGETS, "ops-test");

    assertThat(removed.leases())
        .filteredOn(l -> l.lane().equals("backfill"))
        .singleElement()
        .satisfies(
            l -> {
              assertThat(l.held()).isTrue();
              assertThat(l.ownerId()).contains(held.owner().toString());
              assertThat(l.token()).contains(held.token());
            });
    assertThat(fx.store.heartbeat(held)).isInstanceOf(HeartbeatResult.Lost.class);
    assertThatThrownBy(() -> fx.store.inLease(held, h -> h.execute("select 1")))
        .isInstanceOf(LeaseLostException.class);
    assertThat(
            count(
                "select count(*) from lease_event where lane = 'backfill' and kind ="
                    + " 'manually_released' and previous_owner_id = '" + held.owner() + "'"))
        .isEqualTo(1);
    assertThat(
            count(
                "select count(*) from lease_event_log where lane = 'backfill' and kind ="
                    + " 'claimed' and token = " + held.token()))
        .as("the holding's claim stays in the log after its lease row is gone")
        .isEqualTo(1);
  }

  @Test
  void untrackingWaitsForAGuardedWriteInFlightThenFencesItsWriter() throws Exception {
    long id = track(1);
    Lease held = claim(id, Lanes.FETCH);
    java.util.concurrent.CountDownLatch writing = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch finish = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.ExecutorService threads =
        java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      java.util.concurrent.Future<Integer> write =
          threads.submit(
              () ->
                  fx.store.inLease(
                      held,
                      h -> {
                        int rows =
                            h.execute(
                                "update repository_sync_state set backfill_priority = 99"
                                    + " where repository_id = ?",
                                id);
                        writing.countDown();
                        finish.await();
                        return rows;
                      }));
      assertThat(writing.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

      java.util.concurrent.Future<UntrackedRepository> untrack =
          threads.submit(() -> admin.untrack(WIDGETS, "ops-test"));
      assertThatThrownBy(() -> untrack.get(500, java.util.concurrent.TimeUnit.MILLISECONDS))
          .as("untracking waits for the write in flight")
          .isInstanceOf(java.util.concurrent.TimeoutException.class);

      finish.countDown();
      assertThat(write.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1);
      UntrackedRepository removed = untrack.get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(removed.leases())
          .filteredOn(l -> l.lane().equals("fetch"))
          .singleElement()
          .satisfies(l -> assertThat(l.held()).isTrue());
      assertThat(count("select count(*) from repository")).isZero();
      assertThatThrownBy(() -> fx.store.inLease(held, h -> h.execute("select 1")))
          .isInstanceOf(LeaseLostException.class);
    } finally {
      finish.countDown();
      threads.shutdownNow();
    }
  }
}
