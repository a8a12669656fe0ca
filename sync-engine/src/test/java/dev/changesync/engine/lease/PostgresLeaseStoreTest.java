package dev.changesync.engine.lease;

import static java.time.Duration.ofMinutes;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.HeartbeatResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeaseLostException;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.LeaseRunner;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.RecoveryReport;
import dev.changesync.lease.RunOutcome;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What the PostgreSQL store guarantees beyond the shared contract: races, fencing, time, audit. */
class PostgresLeaseStoreTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final LeaseKey FETCH = LeaseKey.of("repo:42", "fetch");
  private static final LeaseKey BACKFILL = LeaseKey.of("repo:42", "backfill");
  private static final OwnerId ALICE = new OwnerId("worker-a", "a1");
  private static final OwnerId BOB = new OwnerId("worker-b", "b1");
  private static final LeasePolicy LONG = LeasePolicy.ofTtl(ofMinutes(15));

  private final MutableClock clock = new MutableClock();
  private Jdbi jdbi;
  private PostgresLeaseStore store;
  private final List<AutoCloseable> closeAfter = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    jdbi = Jdbi.create(db.dataSource());
    jdbi.useHandle(h -> h.execute("create table if not exists fence_probe (marker text not null)"));
    jdbi.useHandle(h -> h.execute("truncate fence_probe"));
    store = PostgresLeaseStore.builder(db.dataSource()).clock(clock).build();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeAfter) {
      c.close();
    }
  }

  private Lease claim(PostgresLeaseStore on, LeaseKey key, OwnerId owner, LeasePolicy policy) {
    ClaimResult result = on.claim(key, owner, policy);
    assertThat(result).isInstanceOf(ClaimResult.Granted.class);
    return ((ClaimResult.Granted) result).lease();
  }

  private List<Map<String, Object>> events() {
    return jdbi.withHandle(
        h ->
            h.createQuery(
                    "select kind, resource, lane, owner_id, token, previous_owner_id,"
                        + " previous_token, detail from lease_event_log order by id")
                .mapToMap()
                .list());
  }

  // --- regressions of the system changesync replaces ---------------------------------------

  @Test
  void staleFetchLeaseIsReclaimedAndTheWorkRuns() {
    Lease abandoned = claim(store, FETCH, ALICE, LONG);
    clock.advance(LONG.staleAfter());

    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    try {
      LeaseRunner<org.jdbi.v3.core.Handle> runner = LeaseRunner.builder(store, scheduler).build();
      AtomicInteger ran = new AtomicInteger();
      Optional<RunOutcome> outcome =
          runner.claimAndRun(
              FETCH,
              BOB,
              LONG,
              (lease, cancellation) -> {
                ran.incrementAndGet();
                store.inLease(
                    lease,
                    h -> h.execute("insert into fence_probe (marker) values ('bob')"));
                return h -> h.execute("insert into fence_probe (marker) values ('bob-done')");
              });
      assertThat(outcome).containsInstanceOf(RunOutcome.Completed.class);
      assertThat(outcome.orElseThrow().released()).isTrue();
      assertThat(ran).hasValue(1);
    } finally {
      scheduler.shutdownNow();
    }
    assertThat(markers()).containsExactly("bob", "bob-done");
    assertThat(store.find(FETCH)).isEmpty();
    assertThat(events())
        .extracting(e -> e.get("kind"), e -> e.get("owner_id"), e -> e.get("previous_owner_id"))
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("claimed", ALICE.toString(), null),
            org.assertj.core.groups.Tuple.tuple("reclaimed", BOB.toString(), ALICE.toString()),
            org.assertj.core.groups.Tuple.tuple("released", BOB.toString(), null));
    assertThat(events().get(1).get("previous_token")).isEqualTo(abandoned.token());
  }

  @Test
  void freshLeaseOfAnotherOwnerIsNotStolen() {
    Lease held = claim(store, FETCH, ALICE, LONG);
    clock.advance(LONG.staleAfter().minusMillis(1));

    ClaimResult result = store.claim(FETCH, BOB, LeasePolicy.ofTtl(ofSeconds(2)));

    assertThat(result).isEqualTo(new ClaimResult.Held(held));
    assertThat(store.find(FETCH)).contains(held);
  }

  @Test
  void startupRecoveryFreesStaleFetchAndBackfillLeases() {
    claim(store, FETCH, ALICE, LONG);
    claim(store, BACKFILL, ALICE, LONG);
    Lease fresh = claim(store, LeaseKey.of("repo:7", "fetch"), BOB, LONG);
    clock.advance(LONG.staleAfter());
    Lease bobRenewed =
        ((HeartbeatResult.Renewed) store.heartbeat(fresh)).lease();

    RecoveryReport report = store.recover(new OwnerId("worker-c", "c1"));

    assertThat(report.countsByLane()).containsExactlyInAnyOrderEntriesOf(
        Map.of("fetch", 1, "backfill", 1));
    assertThat(report.freed())
        .allSatisfy(f -> assertThat(f.reason()).isEqualTo(RecoveryReport.Reason.STALE));
    assertThat(store.list()).containsExactly(bobRenewed);
    assertThat(store.claim(FETCH, BOB, LONG)).isInstanceOf(ClaimResult.Granted.class);
    assertThat(events()).filteredOn(e -> e.get("kind").equals("recovered")).hasSize(2);
  }

  // --- races ---------------------------------------------------------------------------------

  @Test
  void sixteenThreadsClaimingOneKeyGetExactlyOneWinnerPerRound() throws Exception {
    int threads = 16;
    int rounds = 1_000;
    HikariDataSource pool = db.newDataSource(threads);
    closeAfter.add(pool);
    PostgresLeaseStore shared = PostgresLeaseStore.builder(pool).clock(clock).build();
    LeaseKey key = LeaseKey.of("race", "fetch");
    ExecutorService executor = Executors.newFixedThreadPool(threads);
    CyclicBarrier start = new CyclicBarrier(threads);
    try {
      long lastToken = 0;
      for (int round = 0; round < rounds; round++) {
        List<Future<ClaimResult>> claims = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          OwnerId owner = new OwnerId("racer-" + t, "r" + round);
          claims.add(
              executor.submit(
                  () -> {
                    start.await(10, TimeUnit.SECONDS);
                    return shared.claim(key, owner, LONG);
                  }));
        }
        List<Lease> winners = new ArrayList<>();
        for (Future<ClaimResult> claim : claims) {
          claim.get(30, TimeUnit.SECONDS).granted().ifPresent(winners::add);
        }
        assertThat(winners).as("winners of round %s", round).hasSize(1);
        Lease winner = winners.get(0);
        assertThat(winner.token()).isGreaterThan(lastToken);
        lastToken = winner.token();
        assertThat(shared.release(winner)).isTrue();
      }
    } finally {
      executor.shutdownNow();
    }
    long claimedEvents =
        jdbi.withHandle(
            h ->
                h.createQuery("select count(*) from lease_event_log where kind = 'claimed'")
                    .mapTo(Long.class)
                    .one());
    assertThat(claimedEvents).isEqualTo(rounds);
  }

  @Test
  void eightWorkersClaimingNextOverFiveHundredKeysClaimEachExactlyOnce() throws Exception {
    int workers = 8;
    List<LeaseKey> keys =
        IntStream.range(0, 500).mapToObj(i -> LeaseKey.of("repo:" + i, "fetch")).toList();
    store.register(keys);
    HikariDataSource pool = db.newDataSource(workers);
    closeAfter.add(pool);
    PostgresLeaseStore shared = PostgresLeaseStore.builder(pool).clock(clock).build();
    Candidates all =
        Candidates.of(
            "select resource from lease where lane = 'fetch'", "c.resource");

    ExecutorService executor = Executors.newFixedThreadPool(workers);
    CyclicBarrier start = new CyclicBarrier(workers);
    List<Future<List<Lease>>> results = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      OwnerId owner = new OwnerId("worker-" + w, "i" + w);
      results.add(
          executor.submit(
              () -> {
                start.await(10, TimeUnit.SECONDS);
                List<Lease> mine = new ArrayList<>();
                Optional<ClaimResult.Granted> next;
                while ((next = shared.claimNext("fetch", owner, LONG, all)).isPresent()) {
                  mine.add(next.get().lease());
                }
                return mine;
              }));
    }
    List<Lease> claimed = new ArrayList<>();
    Map<OwnerId, Integer> perWorker = new HashMap<>();
    for (Future<List<Lease>> result : results) {
      List<Lease> mine = result.get(60, TimeUnit.SECONDS);
      claimed.addAll(mine);
      mine.forEach(l -> perWorker.merge(l.owner(), 1, Integer::sum));
    }
    executor.shutdownNow();

    assertThat(claimed).hasSize(500);
    assertThat(claimed.stream().map(Lease::key).distinct()).hasSize(500);
    assertThat(claimed.stream().map(Lease::key).toList()).containsExactlyInAnyOrderElementsOf(keys);
    for (Lease lease : claimed) {
      assertThat(store.find(lease.key())).contains(lease);
    }
    assertThat(perWorker.keySet()).as("every worker got work").hasSizeGreaterThan(1);
    assertThat(shared.claimNext("fetch", ALICE, LONG, all)).as("nothing left").isEmpty();
  }

  @Test
  void claimNextTakesTheCallersOrderAndSkipsHeldLeases() {
    List<LeaseKey> keys =
        List.of(LeaseKey.of("repo:1", "fetch"), LeaseKey.of("repo:2", "fetch"),
            LeaseKey.of("repo:3", "fetch"));
    store.register(keys);
    claim(store, LeaseKey.of("repo:3", "fetch"), ALICE, LONG);
    Candidates descending =
        new Candidates(
            "select resource, :bias as bias from lease where lane = 'fetch'",
            "c.bias, c.resource desc",
            Map.of("bias", 1));

    assertThat(store.claimNext("fetch", BOB, LONG, descending).map(g -> g.lease().key()))
        .contains(LeaseKey.of("repo:2", "fetch"));
    assertThat(store.claimNext("fetch", BOB, LONG, descending).map(g -> g.lease().key()))
        .contains(LeaseKey.of("repo:1", "fetch"));
    assertThat(store.claimNext("fetch", BOB, LONG, descending)).isEmpty();

    clock.advance(LONG.staleAfter());
    Optional<ClaimResult.Granted> reclaimed = store.claimNext("fetch", ALICE, LONG, descending);
    assertThat(reclaimed).isPresent();
    assertThat(reclaimed.get().reclaimedFrom()).isPresent();
  }

  // --- fencing ---------------------------------------------------------------------------------

  @Test
  void guardedWriteAfterReclaimAbortsAndLeavesEveryRowUnchanged() {
    Lease alices = claim(store, FETCH, ALICE, LONG);
    store.inLease(alices, h -> h.execute("insert into fence_probe (marker) values ('before')"));
    clock.advance(LONG.staleAfter());
    Lease bobs = claim(store, FETCH, BOB, LONG);
    Map<String, Object> leaseRow = leaseRow(FETCH);
    AtomicInteger ran = new AtomicInteger();

    assertThatThrownBy(
            () ->
                store.inLease(
                    alices,
                    h -> {
                      ran.incrementAndGet();
                      h.execute("insert into fence_probe (marker) values ('late')");
                      return null;
                    }))
        .isInstanceOf(LeaseLostException.class)
        .hasMessageContaining(FETCH.toString());

    assertThat(ran).hasValue(0);
    assertThat(markers()).containsExactly("before");
    assertThat(leaseRow(FETCH)).isEqualTo(leaseRow);
    assertThat(store.find(FETCH)).contains(bobs);
    assertThat(store.release(alices, h -> h.execute("insert into fence_probe values ('x')")))
        .isFalse();
    assertThat(markers()).containsExactly("before");
  }

  @Test
  void reclaimWaitsForAGuardedWriteInProgressToCommit() throws Exception {
    Lease alices = claim(store, FETCH, ALICE, LONG);
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    ExecutorService executor = Executors.newFixedThreadPool(2);
    try {
      Future<?> write =
          executor.submit(
              () ->
                  store.inLease(
                      alices,
                      h -> {
                        h.execute("insert into fence_probe (marker) values ('alice')");
                        writing.countDown();
                        finish.await(30, TimeUnit.SECONDS);
                        return null;
                      }));
      assertThat(writing.await(30, TimeUnit.SECONDS)).isTrue();
      clock.advance(LONG.staleAfter());
      Future<ClaimResult> reclaim = executor.submit(() -> store.claim(FETCH, BOB, LONG));

      assertThatThrownBy(() -> reclaim.get(500, TimeUnit.MILLISECONDS))
          .as("the reclaim must wait for the guarded write's row lock")
          .isInstanceOf(TimeoutException.class);
      finish.countDown();
      write.get(30, TimeUnit.SECONDS);

      assertThat(reclaim.get(30, TimeUnit.SECONDS)).isInstanceOf(ClaimResult.Granted.class);
      assertThat(markers()).containsExactly("alice");
    } finally {
      finish.countDown();
      executor.shutdownNow();
    }
  }

  @Test
  void tokensKeepIncreasingWhenLeaseRowsAreDeleted() {
    Lease first = claim(store, FETCH, ALICE, LONG);
    jdbi.useHandle(h -> h.execute("delete from lease"));

    Lease second = claim(store, FETCH, ALICE, LONG);

    assertThat(second.token()).isGreaterThan(first.token());
  }

  @Test
  void manualReleaseBumpsTheTokenAndRecordsWhoDidIt() {
    Lease alices = claim(store, FETCH, ALICE, LONG);

    assertThat(store.releaseManually(FETCH, "operator@example")).contains(alices);

    assertThat(store.heartbeat(alices)).isInstanceOf(HeartbeatResult.Lost.class);
    assertThat(leaseRow(FETCH).get("token")).isEqualTo(alices.token() + 1);
    Map<String, Object> event =
        events().stream().filter(e -> e.get("kind").equals("manually_released")).findFirst()
            .orElseThrow();
    assertThat(event.get("previous_owner_id")).isEqualTo(ALICE.toString());
    assertThat(event.get("previous_token")).isEqualTo(alices.token());
    assertThat((String) event.get("detail")).contains("operator@example");
    assertThat(claim(store, FETCH, BOB, LONG).token()).isGreaterThan(alices.token() + 1);
  }

  // --- time ------------------------------------------------------------------------------------

  @Test
  void aWorkerWhoseLocalClockIsAMinuteAheadCannotStealAFreshLease() {
    PostgresLeaseStore onDatabaseTime = PostgresLeaseStore.builder(db.dataSource()).build();
    InstantSource aMinuteAhead = () -> Instant.now().plusSeconds(60);
    PostgresLeaseStore skewed =
        PostgresLeaseStore.builder(db.dataSource()).holderClock(aMinuteAhead).build();
    LeasePolicy shortPolicy = LeasePolicy.ofTtl(ofSeconds(6));
    Lease held = claim(onDatabaseTime, FETCH, ALICE, shortPolicy);

    assertThat(skewed.claim(FETCH, BOB, shortPolicy)).isInstanceOf(ClaimResult.Held.class);
    assertThat(store.find(FETCH)).contains(held);

    Lease bobs = claim(skewed, BACKFILL, BOB, shortPolicy);
    assertThat(skewed.heartbeat(bobs)).isInstanceOf(HeartbeatResult.Renewed.class);
    long skewMicros = ((Number) leaseRow(BACKFILL).get("holder_clock_skew_us")).longValue();
    assertThat(Duration.ofNanos(skewMicros * 1_000))
        .isBetween(ofSeconds(55), ofSeconds(65));
  }

  @Test
  void databaseTimeDecidesWhenNoClockIsInjected() {
    PostgresLeaseStore onDatabaseTime = PostgresLeaseStore.builder(db.dataSource()).build();
    Instant databaseNow =
        jdbi.withHandle(h -> h.createQuery("select now()").mapTo(Instant.class).one());

    Lease lease = claim(onDatabaseTime, FETCH, ALICE, LONG);

    assertThat(Duration.between(databaseNow, lease.claimedAt()).abs())
        .isLessThan(ofSeconds(5));
    assertThat(lease.expiresAt()).isEqualTo(lease.claimedAt().plus(LONG.leaseFor()));
    assertThat(onDatabaseTime.now()).isAfterOrEqualTo(lease.claimedAt());
  }

  // --- liveness --------------------------------------------------------------------------------

  private static final Duration GRACE = PostgresLeaseStore.DEFAULT_OWNER_GONE_AFTER;

  @Test
  void leaseOfAProcessWhoseLivenessLockIsGoneIsReclaimableOnceItWasSilentForTheGrace()
      throws Exception {
    LivenessSession alicesSession = LivenessSession.open(db.dataSource(), ALICE);
    PostgresLeaseStore alicesStore =
        PostgresLeaseStore.builder(db.dataSource()).clock(clock).liveness(alicesSession).build();
    LivenessSession bobsSession = LivenessSession.open(db.dataSource(), BOB);
    closeAfter.add(bobsSession);
    PostgresLeaseStore bobsStore =
        PostgresLeaseStore.builder(db.dataSource()).clock(clock).liveness(bobsSession).build();
    PostgresLeaseStore withoutLiveness = PostgresLeaseStore.builder(db.dataSource()).clock(clock).build();
    Lease claimed = claim(alicesStore, FETCH, ALICE, LONG);
    clock.advance(ofSeconds(5));
    Lease alices =
        ((HeartbeatResult.Renewed) alicesStore.heartbeat(claimed)).lease();

    assertThat(bobsStore.claim(FETCH, BOB, LONG)).isInstanceOf(ClaimResult.Held.class);
    alicesSession.close();
    clock.advance(GRACE.minus(Duration.ofNanos(1_000)));
    assertThat(bobsStore.claim(FETCH, BOB, LONG))
        .as("its lock is gone, but it heartbeat less than the grace ago")
        .isInstanceOf(ClaimResult.Held.class);
    clock.advance(Duration.ofNanos(1_000));
    assertThat(withoutLiveness.claim(FETCH, BOB, LONG))
        .as("without liveness a dead owner's lease waits for stale-after")
        .isInstanceOf(ClaimResult.Held.class);

    ClaimResult result = bobsStore.claim(FETCH, BOB, LONG);

    assertThat(result).isInstanceOf(ClaimResult.Granted.class);
    assertThat(((ClaimResult.Granted) result).reclaimedFrom()).contains(alices);
    assertThat(events().get(events().size() - 1).get("detail"))
        .isEqualTo("previous holder's process is gone");
  }

  @Test
  void aGraceOfZeroMakesALeaseWithoutItsLivenessLockReclaimableAtOnce() throws Exception {
    LivenessSession alicesSession = LivenessSession.open(db.dataSource(), ALICE);
    PostgresLeaseStore alicesStore =
        PostgresLeaseStore.builder(db.dataSource()).clock(clock).liveness(alicesSession).build();
    PostgresLeaseStore bobsStore =
        PostgresLeaseStore.builder(db.dataSource())
            .clock(clock)
            .checkOwnerLiveness(true)
            .ownerGoneAfter(Duration.ZERO)
            .build();
    claim(alicesStore, FETCH, ALICE, LONG);
    alicesSession.close();

    assertThat(bobsStore.claim(FETCH, BOB, LONG)).isInstanceOf(ClaimResult.Granted.class);
    assertThatThrownBy(() -> PostgresLeaseStore.builder(db.dataSource()).ownerGoneAfter(ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ownerGoneAfter")
        .hasMessageContaining("PT-1S");
  }

  @Test
  void recoveryFreesLeasesOfDeadOwnersAndEarlierIncarnations() throws Exception {
    LivenessSession alicesSession = LivenessSession.open(db.dataSource(), ALICE);
    PostgresLeaseStore alicesStore =
        PostgresLeaseStore.builder(db.dataSource()).clock(clock).liveness(alicesSession).build();
    claim(alicesStore, FETCH, ALICE, LONG);
    OwnerId bobEarlier = new OwnerId("worker-b", "b0");
    claim(store, BACKFILL, bobEarlier, LONG);
    Lease carols = claim(store, LeaseKey.of("repo:9", "fetch"), new OwnerId("c", "c1"), LONG);
    alicesSession.close();
    LivenessSession bobsSession = LivenessSession.open(db.dataSource(), BOB);
    closeAfter.add(bobsSession);
    PostgresLeaseStore bobsStore =
        PostgresLeaseStore.builder(db.dataSource()).clock(clock).liveness(bobsSession).build();
    clock.advance(GRACE);

    RecoveryReport report = bobsStore.recover(BOB);

    Map<LeaseKey, RecoveryReport.Reason> reasons = new HashMap<>();
    report.freed().forEach(f -> reasons.put(f.lease().key(), f.reason()));
    assertThat(reasons)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                FETCH, RecoveryReport.Reason.OWNER_GONE,
                BACKFILL, RecoveryReport.Reason.EARLIER_INCARNATION));
    assertThat(store.list()).containsExactly(carols);
  }

  @Test
  void anAdminStoreWithoutItsOwnSessionStillRecoversLeasesOfDeadOwners() {
    LivenessSession alicesSession = LivenessSession.open(db.dataSource(), ALICE);
    PostgresLeaseStore alicesStore =
        PostgresLeaseStore.builder(db.dataSource()).clock(clock).liveness(alicesSession).build();
    claim(alicesStore, FETCH, ALICE, LONG);
    PostgresLeaseStore admin =
        PostgresLeaseStore.builder(db.dataSource()).clock(clock).checkOwnerLiveness(true).build();
    assertThat(admin.recover(new OwnerId("admin", "x")).total()).isZero();

    alicesSession.close();
    assertThat(admin.recover(new OwnerId("admin", "x")).total())
        .as("within the grace")
        .isZero();
    clock.advance(GRACE);

    assertThat(admin.recover(new OwnerId("admin", "x")).freed())
        .extracting(RecoveryReport.Freed::reason)
        .containsExactly(RecoveryReport.Reason.OWNER_GONE);
  }

  // --- audit -----------------------------------------------------------------------------------

  @Test
  void everyTransitionIsInTheEventLogAndRetentionIsBounded() {
    Lease alices = claim(store, FETCH, ALICE, LONG);
    store.heartbeat(alices);
    clock.advance(LONG.staleAfter());
    Lease bobs = claim(store, FETCH, BOB, LONG);
    assertThat(store.heartbeat(alices)).isInstanceOf(HeartbeatResult.Lost.class);
    store.release(bobs);
    claim(store, BACKFILL, ALICE, LONG);
    store.releaseManually(BACKFILL, "ops");
    claim(store, BACKFILL, ALICE, LONG);
    clock.advance(LONG.staleAfter());
    store.recover(BOB);

    assertThat(events())
        .extracting(e -> e.get("kind"))
        .containsExactly(
            "claimed", "reclaimed", "lost", "released", "claimed", "manually_released",
            "claimed", "recovered");

    PostgresLeaseStore capped = PostgresLeaseStore.builder(db.dataSource()).clock(clock).eventCap(3).build();
    // Five rows: the reclaim, the loss, the release, the manual release and the recovery; the
    // claims of free leases ride on the rows that ended their holdings.
    long rows =
        jdbi.withHandle(
            h -> h.createQuery("select count(*) from lease_event").mapTo(Long.class).one());
    assertThat(rows).isEqualTo(5);
    assertThat(capped.pruneEvents()).isEqualTo(2);
    assertThat(events()).extracting(e -> e.get("kind"))
        .containsExactly("released", "claimed", "manually_released", "claimed", "recovered");
    clock.advance(PostgresLeaseStore.DEFAULT_EVENT_RETENTION.plusSeconds(1));
    assertThat(store.pruneEvents()).isEqualTo(3);
    assertThat(events()).isEmpty();
  }

  @Test
  void pruningByAgeKeepsEveryRowYoungerThanTheRetention() {
    for (int i = 0; i < 3; i++) {
      store.release(claim(store, FETCH, ALICE, LONG));
    }
    clock.advance(Duration.ofDays(1));
    for (int i = 0; i < 2; i++) {
      store.release(claim(store, FETCH, ALICE, LONG));
    }
    Lease held = claim(store, BACKFILL, ALICE, LONG);
    clock.advance(PostgresLeaseStore.DEFAULT_EVENT_RETENTION.minusHours(12));

    assertThat(store.pruneEvents()).as("the three releases a day older").isEqualTo(3);
    assertThat(events())
        .extracting(e -> e.get("kind") + " " + e.get("lane"))
        .containsExactly(
            "claimed fetch", "released fetch", "claimed fetch", "released fetch",
            "claimed backfill");
    assertThat(store.pruneEvents()).isZero();
    assertThat(store.release(held)).isTrue();
  }

  // --- durability ------------------------------------------------------------------------------

  @Test
  void releasesCommitWithoutWaitingForTheFlushAndTheSettingEndsWithThem() {
    // One connection, so that every statement below runs on the connection the releases used.
    HikariDataSource oneConnection = db.newDataSource(1);
    Jdbi single = Jdbi.create(oneConnection);
    PostgresLeaseStore byDefault = PostgresLeaseStore.builder(oneConnection).clock(clock).build();
    PostgresLeaseStore synchronous =
        PostgresLeaseStore.builder(oneConnection).clock(clock).synchronousRelease(true).build();
    List<String> seenByCompletion = new ArrayList<>();

    byDefault.release(
        claim(byDefault, FETCH, ALICE, LONG),
        h -> seenByCompletion.add(commitMode(h)));
    String afterReleaseWithCompletion = single.withHandle(PostgresLeaseStoreTest::commitMode);
    byDefault.release(claim(byDefault, FETCH, ALICE, LONG));
    String afterBareRelease = single.withHandle(PostgresLeaseStoreTest::commitMode);
    synchronous.release(
        claim(synchronous, FETCH, ALICE, LONG),
        h -> seenByCompletion.add(commitMode(h)));

    assertThat(seenByCompletion).containsExactly("off", "on");
    assertThat(afterReleaseWithCompletion).isEqualTo("on");
    assertThat(afterBareRelease).isEqualTo("on");
    assertThat(leaseRow(FETCH).get("owner_id")).isNull();
    assertThat(events())
        .extracting(e -> e.get("kind"))
        .containsExactly("claimed", "released", "claimed", "released", "claimed", "released");
  }

  @Test
  void aRefusedReleaseWithCompletionWritesNothing() {
    Lease alices = claim(store, FETCH, ALICE, LONG);
    clock.advance(LONG.staleAfter());
    claim(store, FETCH, BOB, LONG);

    boolean released =
        store.release(alices, h -> h.execute("insert into fence_probe values ('completion')"));

    long probes =
        jdbi.withHandle(h -> h.select("select count(*) from fence_probe").mapTo(Long.class).one());
    assertThat(released).isFalse();
    assertThat(probes).isZero();
    assertThat(leaseRow(FETCH).get("owner_id")).isEqualTo(BOB.toString());
  }

  private static String commitMode(org.jdbi.v3.core.Handle h) {
    return h.select("select current_setting('synchronous_commit')").mapTo(String.class).one();
  }

  @Test
  void transitionsCountHowOftenALeaseChangedHands() {
    Lease alices = claim(store, FETCH, ALICE, LONG);
    store.release(alices);
    claim(store, FETCH, BOB, LONG);
    clock.advance(LONG.staleAfter());
    claim(store, FETCH, ALICE, LONG);

    assertThat(leaseRow(FETCH).get("transitions")).isEqualTo(3L);
  }

  // --- workers ---------------------------------------------------------------------------------

  @Test
  void workersAreRegisteredSeenAndAliveWhileTheirLivenessLockIsHeld() throws Exception {
    WorkerRegistry workers = new WorkerRegistry(jdbi, clock);
    LivenessSession alicesSession = LivenessSession.open(db.dataSource(), ALICE);
    workers.register(
        new WorkerRegistry.Registration(ALICE, "host-a", 11, "test", Optional.of(alicesSession.key())));
    workers.register(new WorkerRegistry.Registration(BOB, "host-b", 12, "test", Optional.empty()));
    clock.advance(ofSeconds(5));
    assertThat(workers.touch(BOB)).isTrue();
    assertThat(workers.touch(new OwnerId("nobody", "x"))).isFalse();

    assertThat(workers.list(ofSeconds(30)))
        .extracting(WorkerRegistry.Worker::owner, WorkerRegistry.Worker::alive)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(BOB, true),
            org.assertj.core.groups.Tuple.tuple(ALICE, true));

    alicesSession.close();
    clock.advance(ofSeconds(60));
    workers.stopped(BOB);
    assertThat(workers.list(ofSeconds(30)))
        .extracting(WorkerRegistry.Worker::owner, WorkerRegistry.Worker::alive)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(BOB, false),
            org.assertj.core.groups.Tuple.tuple(ALICE, false));
  }

  // --- helpers ---------------------------------------------------------------------------------

  private List<String> markers() {
    return jdbi.withHandle(
        h -> h.createQuery("select marker from fence_probe order by ctid").mapTo(String.class).list());
  }

  private Map<String, Object> leaseRow(LeaseKey key) {
    return jdbi.withHandle(
        h ->
            h.createQuery("select * from lease where resource = :r and lane = :l")
                .bind("r", key.resource())
                .bind("l", key.lane())
                .mapToMap()
                .one());
  }
}
