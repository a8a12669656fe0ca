package dev.changesync.lease.testing;

import static java.time.Duration.ofMillis;
import static java.time.Duration.ofMinutes;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.Completion;
import dev.changesync.lease.HeartbeatResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeaseListener;
import dev.changesync.lease.LeaseLostException;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.LeaseState;
import dev.changesync.lease.LeaseStore;
import dev.changesync.lease.LossReason;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.RecoveryReport;
import dev.changesync.lease.RecoveryReport.Freed;
import dev.changesync.lease.RecoveryReport.Reason;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The behaviour every {@link LeaseStore} must have, as one suite each store's test extends (the
 * in-memory store here, the PostgreSQL store in sync-engine). Modelled on ShedLock's {@code
 * AbstractLockProviderIntegrationTest}: state-machine cases one by one, a fuzz test of mutual
 * exclusion with real threads, and a seeded random walk checked against a reference model.
 *
 * <p>Time is driven only by the {@link MutableClock} handed to {@link #createStore}: the store must
 * take its "now" from it (truncated to microseconds). Nothing here sleeps.
 *
 * <p><b>For implementers.</b> {@link #createStore} is called before every test (and every seed of
 * the random walk) and must return a store with no leases and no token history visible for the keys
 * used here — a fresh or emptied database. Stores that free leases of dead owners (the PostgreSQL
 * liveness check) must have that switched off or must treat the owners used here as alive: they
 * have no liveness sessions. The suite runs with one test instance per class ({@code PER_CLASS}) so
 * that {@link #modelSeeds()} can be overridden; a subclass may therefore use non-static
 * {@code @BeforeAll} / {@code @AfterAll} to provision a database once.
 *
 * @param <W> the store's write context
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class LeaseStoreContract<W> {

  protected static final LeaseKey KEY = LeaseKey.of("repo:1", "fetch");
  protected static final LeaseKey SAME_RESOURCE_OTHER_LANE = LeaseKey.of("repo:1", "refresh");
  protected static final LeaseKey OTHER_KEY = LeaseKey.of("repo:2", "fetch");

  /** Two incarnations of one worker name, and two other workers (one with a colon in its name). */
  protected static final OwnerId ALICE = new OwnerId("worker-a", "a1");

  protected static final OwnerId ALICE_RESTARTED = new OwnerId("worker-a", "a2");
  protected static final OwnerId BOB = new OwnerId("host-b:4242", "b1");
  protected static final OwnerId CAROL = new OwnerId("worker-c", "c1");

  /** TTL 15 min: heartbeat every 10 s, stale after 30 s. */
  protected static final LeasePolicy LONG = LeasePolicy.ofTtl(ofMinutes(15));

  /** TTL 1 s, heartbeat every 200 ms, stale after 1 s. */
  protected static final LeasePolicy SHORT =
      LeasePolicy.of(ofSeconds(1), ofMillis(200), ofSeconds(1));

  /** Stale-after equal to the TTL: the lease goes stale exactly when it expires. */
  protected static final LeasePolicy EXPIRING =
      LeasePolicy.of(ofSeconds(5), ofSeconds(1), ofSeconds(5));

  private static final Duration MICRO = Duration.ofNanos(1_000);

  protected MutableClock clock;
  protected RecordingLeaseListener events;
  protected LeaseStore<W> store;

  /**
   * A store with no leases whose time comes from {@code clock}, reporting transitions to {@code
   * listener}. Called before every test.
   */
  protected abstract LeaseStore<W> createStore(MutableClock clock, LeaseListener listener);

  /** How many seeds the random walk runs (seeds 1 to this). */
  protected int modelSeeds() {
    return 300;
  }

  /** How many steps each random walk takes. */
  protected int modelSteps() {
    return 250;
  }

  /** How many claims each of the fuzz test's 8 threads makes. */
  protected int fuzzIterationsPerThread() {
    return 2_000;
  }

  @BeforeEach
  protected final void setUpLeaseStoreContract() {
    clock = new MutableClock();
    events = new RecordingLeaseListener();
    store = createStore(clock, events);
  }

  // ---------------------------------------------------------------- helpers

  /** The store's "now" as this suite expects it: the clock, truncated to microseconds. */
  protected final Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  protected final Lease claimGranted(LeaseKey key, OwnerId owner, LeasePolicy policy) {
    return granted(store.claim(key, owner, policy)).lease();
  }

  protected static ClaimResult.Granted granted(ClaimResult result) {
    assertThat(result).as("claim result").isInstanceOf(ClaimResult.Granted.class);
    return (ClaimResult.Granted) result;
  }

  protected static Lease renewed(HeartbeatResult result) {
    assertThat(result).as("heartbeat result").isInstanceOf(HeartbeatResult.Renewed.class);
    return ((HeartbeatResult.Renewed) result).lease();
  }

  /** What a fresh claim at {@code at} must record. */
  protected static Lease leaseAt(
      LeaseKey key, OwnerId owner, long token, Instant at, LeasePolicy policy) {
    return new Lease(key, owner, token, at, at, at.plus(policy.leaseFor()), policy);
  }

  /** True when {@code cause} is {@code thrown} or one of its causes. */
  protected static boolean causedBy(Throwable thrown, Throwable cause) {
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      if (t == cause) {
        return true;
      }
    }
    return false;
  }

  private Completion<W> counting(AtomicInteger runs) {
    return writes -> {
      assertThat(writes).as("completion write context").isNotNull();
      runs.incrementAndGet();
    };
  }

  // ---------------------------------------------------------------- claim

  @Test
  public void claimOfFreeKeyIsGrantedWithPositiveToken() {
    clock.set(MutableClock.DEFAULT_START.plusNanos(123_456_789));

    ClaimResult.Granted granted = granted(store.claim(KEY, ALICE, LONG));

    Instant at = MutableClock.DEFAULT_START.plusNanos(123_456_000);
    Lease lease = granted.lease();
    assertThat(lease.token()).isPositive();
    assertThat(lease).isEqualTo(leaseAt(KEY, ALICE, lease.token(), at, LONG));
    assertThat(granted.reclaimedFrom()).isEmpty();
    assertThat(granted.isReclaim()).isFalse();
    assertThat(store.find(KEY)).contains(lease);
    assertThat(lease.stateAt(store.now())).isEqualTo(LeaseState.HELD);
  }

  @Test
  public void claimOfHeldLeaseByAnotherOwnerReturnsHeldAndChangesNothing() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    clock.advance(ofSeconds(5));

    ClaimResult result = store.claim(KEY, BOB, LONG);

    assertThat(result).isEqualTo(new ClaimResult.Held(alice));
    assertThat(result.granted()).isEmpty();
    assertThat(store.find(KEY)).contains(alice);
  }

  @Test
  public void claimByTheHolderItselfIsHeldAndNeverRenews() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    clock.advance(ofSeconds(5));

    assertThat(store.claim(KEY, ALICE, LONG)).isEqualTo(new ClaimResult.Held(alice));
    assertThat(store.claim(KEY, ALICE_RESTARTED, LONG)).isEqualTo(new ClaimResult.Held(alice));
    assertThat(store.find(KEY)).contains(alice);
  }

  @Test
  public void lanesOfOneResourceAreLeasedIndependently() {
    Lease fetch = claimGranted(KEY, ALICE, LONG);
    Lease refresh = claimGranted(SAME_RESOURCE_OTHER_LANE, BOB, LONG);
    Lease otherRepo = claimGranted(OTHER_KEY, CAROL, LONG);

    assertThat(store.find(KEY)).contains(fetch);
    assertThat(store.find(SAME_RESOURCE_OTHER_LANE)).contains(refresh);
    assertThat(store.find(OTHER_KEY)).contains(otherRepo);
  }

  @Test
  public void claimSucceedsWhenLeaseIsStaleByMissedHeartbeats() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    clock.advance(ofSeconds(10));
    Lease lastHeartbeat = renewed(store.heartbeat(alice));
    clock.advance(LONG.staleAfter());
    assertThat(lastHeartbeat.expiresAt()).isAfter(now()); // not expired: stale by heartbeat alone

    ClaimResult.Granted bob = granted(store.claim(KEY, BOB, SHORT));

    assertThat(bob.reclaimedFrom()).contains(lastHeartbeat);
    assertThat(bob.isReclaim()).isTrue();
    assertThat(bob.lease().token()).isGreaterThan(alice.token());
    assertThat(bob.lease()).isEqualTo(leaseAt(KEY, BOB, bob.lease().token(), now(), SHORT));
    assertThat(store.find(KEY)).contains(bob.lease());
  }

  @Test
  public void claimSucceedsWhenLeaseHasExpired() {
    Lease alice = claimGranted(KEY, ALICE, EXPIRING);
    assertThat(alice.staleAt()).isEqualTo(alice.expiresAt());
    clock.set(alice.expiresAt());

    ClaimResult.Granted bob = granted(store.claim(KEY, BOB, LONG));

    assertThat(bob.reclaimedFrom()).contains(alice);
    assertThat(bob.lease().token()).isGreaterThan(alice.token());
    assertThat(store.find(KEY)).contains(bob.lease());
  }

  @Test
  public void leaseIsHeldUntilOneMicrosecondBeforeStaleAtAndClaimableAtIt() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    clock.advance(ofSeconds(3));
    Lease renewed = renewed(store.heartbeat(alice));
    Instant staleAt = renewed.heartbeatAt().plus(LONG.staleAfter());
    assertThat(renewed.staleAt()).isEqualTo(staleAt);

    clock.set(staleAt.minus(MICRO));
    assertThat(store.claim(KEY, BOB, LONG)).isEqualTo(new ClaimResult.Held(renewed));

    clock.set(staleAt);
    assertThat(granted(store.claim(KEY, BOB, LONG)).reclaimedFrom()).contains(renewed);
  }

  @Test
  public void expiringLeaseIsHeldUntilOneMicrosecondBeforeExpiryAndClaimableAtIt() {
    Lease alice = claimGranted(KEY, ALICE, EXPIRING);

    clock.set(alice.expiresAt().minus(MICRO));
    assertThat(store.claim(KEY, BOB, LONG)).isEqualTo(new ClaimResult.Held(alice));

    clock.set(alice.expiresAt());
    assertThat(granted(store.claim(KEY, BOB, LONG)).reclaimedFrom()).contains(alice);
  }

  @Test
  public void freshLeaseIsNeverStolenByClaimerWithShortPolicy() {
    Lease alice = claimGranted(KEY, ALICE, LONG);

    // By the claimer's own 1 s window the lease would look stale after 1 s; only the holder's
    // 30 s window counts.
    for (int second = 1; second < 30; second++) {
      clock.set(alice.claimedAt().plusSeconds(second));
      assertThat(store.claim(KEY, BOB, SHORT))
          .as("claim after %s s", second)
          .isEqualTo(new ClaimResult.Held(alice));
    }
    clock.set(alice.claimedAt().plus(LONG.staleAfter()).minus(MICRO));
    assertThat(store.claim(KEY, BOB, SHORT)).isEqualTo(new ClaimResult.Held(alice));
    assertThat(store.find(KEY)).contains(alice);
  }

  // ---------------------------------------------------------------- heartbeat

  @Test
  public void heartbeatRenewsLeaseAndKeepsToken() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    clock.advance(ofMillis(7_250));

    Lease renewed = renewed(store.heartbeat(alice));

    Instant at = now();
    assertThat(renewed)
        .isEqualTo(
            new Lease(
                KEY, ALICE, alice.token(), alice.claimedAt(), at, at.plus(LONG.leaseFor()), LONG));
    assertThat(store.find(KEY)).contains(renewed);
    // Staleness now counts from the heartbeat.
    clock.set(alice.staleAt());
    assertThat(store.claim(KEY, BOB, LONG)).isEqualTo(new ClaimResult.Held(renewed));
  }

  @Test
  public void heartbeatOfStaleButNotReclaimedLeaseSucceeds() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    clock.advance(ofSeconds(45));
    assertThat(alice.stateAt(now())).isEqualTo(LeaseState.STALE);

    Lease renewed = renewed(store.heartbeat(alice));

    assertThat(renewed.heartbeatAt()).isEqualTo(now());
    assertThat(renewed.token()).isEqualTo(alice.token());
    assertThat(store.claim(KEY, BOB, LONG)).isEqualTo(new ClaimResult.Held(renewed));
  }

  @Test
  public void heartbeatWithAnOlderValueOfTheSameOwnershipSucceeds() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    clock.advance(ofSeconds(10));
    renewed(store.heartbeat(alice));
    clock.advance(ofSeconds(10));

    Lease renewedAgain = renewed(store.heartbeat(alice));

    assertThat(renewedAgain.heartbeatAt()).isEqualTo(now());
    assertThat(renewedAgain.claimedAt()).isEqualTo(alice.claimedAt());
    assertThat(store.find(KEY)).contains(renewedAgain);
  }

  @Test
  public void heartbeatAfterReclaimReportsLostReclaimed() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    clock.advance(LONG.staleAfter());
    Lease bob = claimGranted(KEY, BOB, LONG);

    HeartbeatResult result = store.heartbeat(alice);

    assertThat(result).isEqualTo(new HeartbeatResult.Lost(LossReason.RECLAIMED, Optional.of(bob)));
    assertThat(store.find(KEY)).contains(bob);
  }

  @Test
  public void heartbeatWithSupersededTokenOfTheSameOwnerReportsLost() {
    Lease first = claimGranted(KEY, ALICE, LONG);
    assertThat(store.release(first)).isTrue();
    Lease second = claimGranted(KEY, ALICE, LONG);
    clock.advance(ofSeconds(1));

    assertThat(store.heartbeat(first))
        .isEqualTo(new HeartbeatResult.Lost(LossReason.RECLAIMED, Optional.of(second)));
    assertThat(store.find(KEY)).contains(second);
  }

  @Test
  public void heartbeatAfterReleaseReportsLostFreed() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    assertThat(store.release(alice)).isTrue();

    HeartbeatResult result = store.heartbeat(alice);

    assertThat(result).isEqualTo(new HeartbeatResult.Lost(LossReason.FREED, Optional.empty()));
    assertThat(store.find(KEY)).isEmpty();
  }

  @Test
  public void heartbeatAfterManualReleaseReportsLostFreed() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    store.releaseManually(KEY, "operator");

    assertThat(store.heartbeat(alice))
        .isEqualTo(new HeartbeatResult.Lost(LossReason.FREED, Optional.empty()));
    assertThat(store.find(KEY)).isEmpty();
  }

  @Test
  public void heartbeatAllRenewsEachLeaseOrReportsItLostOnItsOwn() {
    Lease held = claimGranted(KEY, ALICE, LONG);
    Lease reclaimed = claimGranted(OTHER_KEY, ALICE, LONG);
    Lease released = claimGranted(SAME_RESOURCE_OTHER_LANE, ALICE, LONG);
    assertThat(store.release(released)).isTrue();
    clock.advance(LONG.staleAfter());
    Lease bob = claimGranted(OTHER_KEY, BOB, LONG);

    List<HeartbeatResult> results = store.heartbeatAll(List.of(held, reclaimed, released));

    assertThat(results).hasSize(3);
    assertThat(results.get(0))
        .isInstanceOfSatisfying(
            HeartbeatResult.Renewed.class,
            renewed -> {
              assertThat(renewed.lease().token()).isEqualTo(held.token());
              assertThat(renewed.lease().heartbeatAt()).isEqualTo(now());
            });
    assertThat(results.get(1))
        .isEqualTo(new HeartbeatResult.Lost(LossReason.RECLAIMED, Optional.of(bob)));
    assertThat(results.get(2))
        .isEqualTo(new HeartbeatResult.Lost(LossReason.FREED, Optional.empty()));
    assertThat(store.find(KEY)).contains(((HeartbeatResult.Renewed) results.get(0)).lease());
    assertThat(store.find(OTHER_KEY)).contains(bob);
    assertThat(store.heartbeatAll(List.of())).isEmpty();
  }

  // ---------------------------------------------------------------- release

  @Test
  public void releaseFreesLeaseForTheNextClaim() {
    Lease alice = claimGranted(KEY, ALICE, LONG);

    assertThat(store.release(alice)).isTrue();

    assertThat(store.find(KEY)).isEmpty();
    assertThat(store.list()).isEmpty();
    ClaimResult.Granted bob = granted(store.claim(KEY, BOB, LONG));
    assertThat(bob.reclaimedFrom()).isEmpty();
    assertThat(bob.lease().token()).isGreaterThan(alice.token());
  }

  @Test
  public void releaseOfStaleButNotReclaimedLeaseByItsHolderSucceeds() {
    Lease alice = claimGranted(KEY, ALICE, SHORT);
    clock.advance(ofSeconds(5));

    assertThat(store.release(alice)).isTrue();
    assertThat(store.find(KEY)).isEmpty();
  }

  @Test
  public void releaseByAnotherOwnerIsRefusedAndChangesNothing() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    Lease forged =
        new Lease(
            KEY,
            BOB,
            alice.token(),
            alice.claimedAt(),
            alice.heartbeatAt(),
            alice.expiresAt(),
            alice.policy());
    AtomicInteger completions = new AtomicInteger();

    assertThat(store.release(forged, counting(completions))).isFalse();

    assertThat(completions).hasValue(0);
    assertThat(store.find(KEY)).contains(alice);
  }

  @Test
  public void releaseWithSupersededTokenIsRefusedAndChangesNothing() {
    Lease first = claimGranted(KEY, ALICE, LONG);
    assertThat(store.release(first)).isTrue();
    Lease second = claimGranted(KEY, ALICE, LONG);
    AtomicInteger completions = new AtomicInteger();

    // Same owner, old token: refused.
    assertThat(store.release(first, counting(completions))).isFalse();
    assertThat(store.find(KEY)).contains(second);

    clock.advance(LONG.staleAfter());
    Lease bob = claimGranted(KEY, BOB, LONG);
    assertThat(store.release(second, counting(completions))).isFalse();

    assertThat(completions).hasValue(0);
    assertThat(store.find(KEY)).contains(bob);
  }

  @Test
  public void releaseAppliesCompletionOnlyWhenItSucceeds() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    AtomicInteger completions = new AtomicInteger();

    assertThat(store.release(alice, counting(completions))).isTrue();
    assertThat(completions).hasValue(1);

    assertThat(store.release(alice, counting(completions))).isFalse();
    assertThat(completions).hasValue(1);
  }

  @Test
  public void completionThatThrowsLeavesLeaseHeldAndPropagates() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    IllegalStateException boom = new IllegalStateException("completion failed");

    assertThatThrownBy(
            () ->
                store.release(
                    alice,
                    writes -> {
                      throw boom;
                    }))
        .satisfies(thrown -> assertThat(causedBy(thrown, boom)).as("caused by %s", boom).isTrue());

    assertThat(store.find(KEY)).contains(alice);
    assertThat(store.claim(KEY, BOB, LONG)).isEqualTo(new ClaimResult.Held(alice));
    assertThat(store.release(alice)).isTrue();
  }

  @Test
  public void checkedExceptionFromCompletionPropagatesAsUncheckedAndLeavesLeaseHeld() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    IOException diskFull = new IOException("disk full");

    assertThatThrownBy(
            () ->
                store.release(
                    alice,
                    writes -> {
                      throw diskFull;
                    }))
        .isInstanceOf(RuntimeException.class)
        .satisfies(thrown -> assertThat(causedBy(thrown, diskFull)).isTrue());

    assertThat(store.find(KEY)).contains(alice);
  }

  // ---------------------------------------------------------------- tokens

  @Test
  public void tokensStrictlyIncreaseOverManyClaimReleaseReclaimAndManualReleaseCycles() {
    Random random = new Random(20260101);
    OwnerId[] owners = {ALICE, ALICE_RESTARTED, BOB, CAROL};
    Map<String, Integer> endings = new TreeMap<>();
    long lastToken = 0;
    long floor = 0; // after a manual release the next token must exceed this
    for (int cycle = 0; cycle < 1_000; cycle++) {
      OwnerId owner = owners[random.nextInt(owners.length)];
      ClaimResult.Granted granted = granted(store.claim(KEY, owner, SHORT));
      long token = granted.lease().token();
      assertThat(token)
          .as("token of cycle %s", cycle)
          .isGreaterThan(lastToken)
          .isGreaterThan(floor);
      lastToken = token;

      String ending =
          switch (random.nextInt(4)) {
            case 0 -> {
              assertThat(store.release(granted.lease())).isTrue();
              yield "release";
            }
            case 1 -> {
              clock.advance(SHORT.staleAfter()); // the next claim reclaims
              yield "stale";
            }
            case 2 -> {
              assertThat(store.releaseManually(KEY, "operator")).contains(granted.lease());
              floor = token + 1;
              yield "manual release";
            }
            default -> {
              clock.advance(SHORT.staleAfter());
              OwnerId other = owner.equals(BOB) ? CAROL : BOB;
              assertThat(store.recover(other).total()).isEqualTo(1);
              yield "recovery";
            }
          };
      endings.merge(ending, 1, Integer::sum);
    }
    assertThat(endings).containsOnlyKeys("release", "stale", "manual release", "recovery");
  }

  // ---------------------------------------------------------------- recovery

  @Test
  public void recoveryFreesStaleLeasesAndEarlierIncarnationsOnly() {
    OwnerId self = ALICE_RESTARTED;
    LeaseKey staleKey = LeaseKey.of("repo:2", "refresh");
    LeaseKey freshOtherKey = LeaseKey.of("repo:1", "fetch");
    LeaseKey earlierKey1 = LeaseKey.of("repo:3", "fetch");
    LeaseKey earlierKey2 = LeaseKey.of("repo:4", "fetch");
    LeaseKey ownKey = LeaseKey.of("repo:5", "backfill");
    Lease stale = claimGranted(staleKey, CAROL, SHORT);
    clock.advance(ofSeconds(2));
    Lease freshOther = claimGranted(freshOtherKey, BOB, LONG);
    Lease earlier1 = claimGranted(earlierKey1, ALICE, LONG);
    Lease earlier2 = claimGranted(earlierKey2, ALICE, LONG);
    Lease own = claimGranted(ownKey, self, LONG);

    RecoveryReport report = store.recover(self);

    assertThat(report.recoveredBy()).isEqualTo(self);
    assertThat(report.freed())
        .containsExactlyInAnyOrder(
            new Freed(stale, Reason.STALE),
            new Freed(earlier1, Reason.EARLIER_INCARNATION),
            new Freed(earlier2, Reason.EARLIER_INCARNATION));
    assertThat(report.total()).isEqualTo(3);
    assertThat(report.countsByLane())
        .containsExactlyInAnyOrderEntriesOf(Map.of("fetch", 2, "refresh", 1));
    assertThat(store.find(freshOtherKey)).contains(freshOther);
    assertThat(store.find(ownKey)).contains(own);
    assertThat(store.find(staleKey)).isEmpty();
    assertThat(store.find(earlierKey1)).isEmpty();
    assertThat(store.find(earlierKey2)).isEmpty();

    // Freed leases are claimable at once, with tokens still increasing; their holders are fenced.
    ClaimResult.Granted reclaimStale = granted(store.claim(staleKey, BOB, LONG));
    assertThat(reclaimStale.reclaimedFrom()).isEmpty();
    assertThat(reclaimStale.lease().token()).isGreaterThan(stale.token());
    ClaimResult.Granted takeOver = granted(store.claim(earlierKey1, self, LONG));
    assertThat(takeOver.lease().token()).isGreaterThan(earlier1.token());
    assertThat(store.heartbeat(earlier1))
        .isEqualTo(new HeartbeatResult.Lost(LossReason.RECLAIMED, Optional.of(takeOver.lease())));
    assertThat(store.heartbeat(earlier2))
        .isEqualTo(new HeartbeatResult.Lost(LossReason.FREED, Optional.empty()));

    // Nothing left to recover.
    assertThat(store.recover(self).freed()).isEmpty();
  }

  // ---------------------------------------------------------------- manual release

  @Test
  public void manualReleaseFencesTheOldOwner() {
    Lease alice = claimGranted(KEY, ALICE, LONG);

    assertThat(store.releaseManually(KEY, "ops@example.com")).contains(alice);

    assertThat(store.find(KEY)).isEmpty();
    assertThat(store.heartbeat(alice))
        .isEqualTo(new HeartbeatResult.Lost(LossReason.FREED, Optional.empty()));
    AtomicInteger completions = new AtomicInteger();
    assertThat(store.release(alice, counting(completions))).isFalse();
    assertThat(completions).hasValue(0);
    AtomicBoolean wrote = new AtomicBoolean();
    assertThatThrownBy(() -> store.inLease(alice, writes -> wrote.getAndSet(true)))
        .isInstanceOf(LeaseLostException.class);
    assertThat(wrote).isFalse();

    ClaimResult.Granted bob = granted(store.claim(KEY, BOB, LONG));
    assertThat(bob.reclaimedFrom()).isEmpty();
    assertThat(bob.lease().token()).as("token bumped").isGreaterThanOrEqualTo(alice.token() + 2);
    assertThat(store.heartbeat(alice))
        .isEqualTo(new HeartbeatResult.Lost(LossReason.RECLAIMED, Optional.of(bob.lease())));
  }

  @Test
  public void manualReleaseOfStaleLeaseFreesIt() {
    Lease alice = claimGranted(KEY, ALICE, SHORT);
    clock.advance(ofMinutes(5));

    assertThat(store.releaseManually(KEY, "operator")).contains(alice);
    assertThat(store.find(KEY)).isEmpty();
  }

  @Test
  public void manualReleaseOfFreeKeyReturnsEmpty() {
    assertThat(store.releaseManually(KEY, "operator")).isEmpty();

    Lease alice = claimGranted(KEY, ALICE, LONG);
    assertThat(store.release(alice)).isTrue();
    assertThat(store.releaseManually(KEY, "operator")).isEmpty();
    assertThat(store.find(KEY)).isEmpty();
  }

  // ---------------------------------------------------------------- guarded writes

  @Test
  public void guardedWriteRunsAndReturnsWhileOwnerAndTokenMatch() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    AtomicInteger runs = new AtomicInteger();

    String result =
        store.inLease(
            alice,
            writes -> {
              assertThat(writes).as("write context").isNotNull();
              runs.incrementAndGet();
              return "written";
            });

    assertThat(result).isEqualTo("written");
    assertThat(runs).hasValue(1);
    assertThat(store.find(KEY)).contains(alice);
  }

  @Test
  public void guardedWriteRunsWhileLeaseIsStaleButNotReclaimed() {
    Lease alice = claimGranted(KEY, ALICE, SHORT);
    clock.advance(ofMinutes(1));

    int written = store.inLease(alice, writes -> 42);

    assertThat(written).isEqualTo(42);
    assertThat(store.find(KEY)).contains(alice);
  }

  @Test
  public void guardedWriteAfterReclaimThrowsLeaseLostAndNeverRuns() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    clock.advance(LONG.staleAfter());
    Lease bob = claimGranted(KEY, BOB, LONG);
    AtomicBoolean wrote = new AtomicBoolean();

    assertThatThrownBy(() -> store.inLease(alice, writes -> wrote.getAndSet(true)))
        .isInstanceOfSatisfying(
            LeaseLostException.class,
            lost -> {
              assertThat(lost.key()).isEqualTo(KEY);
              assertThat(lost.owner()).isEqualTo(ALICE);
              assertThat(lost.token()).isEqualTo(alice.token());
            });

    assertThat(wrote).isFalse();
    assertThat(store.find(KEY)).contains(bob);
  }

  @Test
  public void guardedWriteAfterReleaseThrowsLeaseLost() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    store.release(alice);
    AtomicBoolean wrote = new AtomicBoolean();

    assertThatThrownBy(() -> store.inLease(alice, writes -> wrote.getAndSet(true)))
        .isInstanceOf(LeaseLostException.class);
    assertThat(wrote).isFalse();
  }

  @Test
  public void exceptionFromGuardedWritePropagatesAndLeavesLeaseAlone() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    IllegalArgumentException bad = new IllegalArgumentException("bad row");
    IOException io = new IOException("io");

    assertThatThrownBy(
            () ->
                store.inLease(
                    alice,
                    writes -> {
                      throw bad;
                    }))
        .satisfies(thrown -> assertThat(causedBy(thrown, bad)).isTrue());
    assertThatThrownBy(
            () ->
                store.<Void, IOException>inLease(
                    alice,
                    writes -> {
                      throw io;
                    }))
        .satisfies(thrown -> assertThat(causedBy(thrown, io)).isTrue());

    assertThat(store.find(KEY)).contains(alice);
    assertThat(store.release(alice)).isTrue();
  }

  // ---------------------------------------------------------------- find, list, now

  @Test
  public void nowIsTheClockTruncatedToMicroseconds() {
    clock.set(Instant.parse("2026-03-04T05:06:07.123456789Z"));

    assertThat(store.now()).isEqualTo(Instant.parse("2026-03-04T05:06:07.123456Z"));
  }

  @Test
  public void findAndListShowHeldAndStaleLeasesButNotReleasedOnes() {
    assertThat(store.list()).isEmpty();
    assertThat(store.find(KEY)).isEmpty();

    Lease stale = claimGranted(OTHER_KEY, CAROL, SHORT);
    Lease released = claimGranted(LeaseKey.of("repo:3", "fetch"), CAROL, LONG);
    clock.advance(ofSeconds(2));
    Lease refresh = claimGranted(SAME_RESOURCE_OTHER_LANE, BOB, LONG);
    Lease fetch = claimGranted(KEY, ALICE, LONG);
    assertThat(store.release(released)).isTrue();

    assertThat(store.list()).containsExactly(fetch, refresh, stale);
    assertThat(stale.stateAt(store.now())).isEqualTo(LeaseState.STALE);
    assertThat(store.find(OTHER_KEY)).contains(stale);
    assertThat(store.find(released.key())).isEmpty();
  }

  // ---------------------------------------------------------------- listener

  @Test
  public void listenerHearsEveryTransition() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    store.claim(KEY, BOB, LONG); // held: no event
    clock.advance(ofSeconds(1));
    Lease renewed = renewed(store.heartbeat(alice));
    clock.advance(LONG.staleAfter());
    Lease bob = claimGranted(KEY, BOB, LONG);
    store.heartbeat(alice);
    assertThatThrownBy(() -> store.inLease(alice, writes -> "never"))
        .isInstanceOf(LeaseLostException.class);
    store.release(alice);
    store.release(bob);
    Lease carol = claimGranted(KEY, CAROL, LONG);
    store.releaseManually(KEY, "ops@example.com");
    store.heartbeat(carol);
    Lease stale = claimGranted(OTHER_KEY, ALICE, SHORT);
    clock.advance(ofSeconds(2));
    RecoveryReport report = store.recover(BOB);

    assertThat(report.freed()).containsExactly(new Freed(stale, Reason.STALE));
    assertThat(events.events())
        .containsExactly(
            new RecordingLeaseListener.Claimed(alice),
            new RecordingLeaseListener.Heartbeat(renewed),
            new RecordingLeaseListener.Reclaimed(bob, renewed),
            new RecordingLeaseListener.Lost(alice, LossReason.RECLAIMED),
            new RecordingLeaseListener.Lost(alice, LossReason.RECLAIMED),
            new RecordingLeaseListener.Lost(alice, LossReason.RECLAIMED),
            new RecordingLeaseListener.Released(bob),
            new RecordingLeaseListener.Claimed(carol),
            new RecordingLeaseListener.ManuallyReleased(carol, "ops@example.com"),
            new RecordingLeaseListener.Lost(carol, LossReason.FREED),
            new RecordingLeaseListener.Claimed(stale),
            new RecordingLeaseListener.Recovered(report));
  }

  @Test
  public void listenerThatThrowsOnEveryCallBreaksNothing() {
    events.failOnEveryCall(true);

    Lease alice = claimGranted(KEY, ALICE, LONG);
    clock.advance(ofSeconds(1));
    Lease renewed = renewed(store.heartbeat(alice));
    String written = store.inLease(renewed, writes -> "ok");
    assertThat(written).isEqualTo("ok");
    clock.advance(LONG.staleAfter());
    ClaimResult.Granted bob = granted(store.claim(KEY, BOB, LONG));
    assertThat(bob.reclaimedFrom()).contains(renewed);
    assertThat(store.heartbeat(alice))
        .isEqualTo(new HeartbeatResult.Lost(LossReason.RECLAIMED, Optional.of(bob.lease())));
    assertThatThrownBy(() -> store.inLease(alice, writes -> "never"))
        .isInstanceOf(LeaseLostException.class);
    assertThat(store.release(alice)).isFalse();
    assertThat(store.release(bob.lease())).isTrue();
    Lease carol = claimGranted(KEY, CAROL, LONG);
    assertThat(store.releaseManually(KEY, "operator")).contains(carol);
    Lease stale = claimGranted(OTHER_KEY, ALICE, SHORT);
    clock.advance(ofSeconds(2));
    assertThat(store.recover(BOB).freed()).containsExactly(new Freed(stale, Reason.STALE));

    assertThat(events.events()).hasSizeGreaterThanOrEqualTo(10);
  }

  // ---------------------------------------------------------------- fuzz

  /** A counter with no synchronisation at all: only the lease keeps its updates apart. */
  private static final class PlainCounter {
    int value;
  }

  @Test
  public void fuzzReadModifyWriteUnderOneLeaseLosesNoUpdate() throws Exception {
    fuzz(List.of(KEY));
  }

  @Test
  public void fuzzReadModifyWriteUnderSeveralLeasesLosesNoUpdate() throws Exception {
    fuzz(List.of(KEY, SAME_RESOURCE_OTHER_LANE, OTHER_KEY));
  }

  /**
   * ShedLock's FuzzTester: 8 threads claim shared keys (the clock is frozen, so leases never go
   * stale) and, when granted, do an unsynchronised read-yield-write on a plain counter before
   * releasing. Any overlap of two holders loses an update.
   */
  private void fuzz(List<LeaseKey> keys) throws Exception {
    int threads = 8;
    int iterations = fuzzIterationsPerThread();
    Map<LeaseKey, PlainCounter> counters = new HashMap<>();
    Map<LeaseKey, AtomicInteger> grants = new HashMap<>();
    Map<LeaseKey, AtomicInteger> inside = new HashMap<>();
    for (LeaseKey key : keys) {
      counters.put(key, new PlainCounter());
      grants.put(key, new AtomicInteger());
      inside.put(key, new AtomicInteger());
    }
    AtomicInteger maxInside = new AtomicInteger();
    CyclicBarrier start = new CyclicBarrier(threads);
    AtomicInteger threadNumber = new AtomicInteger();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads, r -> new Thread(r, "lease-fuzz-" + threadNumber.incrementAndGet()));
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        OwnerId owner = new OwnerId("fuzz-worker-" + t, "f" + t);
        int offset = t;
        results.add(
            pool.submit(
                () -> {
                  start.await(30, TimeUnit.SECONDS);
                  int mine = 0;
                  for (int i = 0; i < iterations; i++) {
                    LeaseKey key = keys.get((offset + i) % keys.size());
                    Optional<Lease> lease = store.claim(key, owner, LONG).granted();
                    if (lease.isEmpty()) {
                      Thread.yield();
                      continue;
                    }
                    int holders = inside.get(key).incrementAndGet();
                    maxInside.accumulateAndGet(holders, Math::max);
                    PlainCounter counter = counters.get(key);
                    int read = counter.value;
                    Thread.yield();
                    counter.value = read + 1;
                    inside.get(key).decrementAndGet();
                    grants.get(key).incrementAndGet();
                    mine++;
                    if (!store.release(lease.get())) {
                      throw new AssertionError("release refused for " + lease.get());
                    }
                    Thread.yield(); // let the others at it before claiming again
                  }
                  return mine;
                }));
      }
      int total = 0;
      int threadsWithGrants = 0;
      for (Future<Integer> result : results) {
        int mine = result.get(60, TimeUnit.SECONDS);
        total += mine;
        threadsWithGrants += mine > 0 ? 1 : 0;
      }
      assertThat(maxInside).as("most holders at once").hasValue(1);
      for (LeaseKey key : keys) {
        assertThat(counters.get(key).value)
            .as("count under %s", key)
            .isEqualTo(grants.get(key).get());
      }
      assertThat(total).isPositive();
      assertThat(threadsWithGrants).as("threads that got a lease").isGreaterThanOrEqualTo(2);
      assertThat(store.list()).isEmpty();
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  // ---------------------------------------------------------------- model-based random walk

  /** Seeds 1 to {@link #modelSeeds()}. */
  protected final Stream<Long> modelSeedValues() {
    return LongStream.rangeClosed(1, modelSeeds()).boxed();
  }

  /**
   * A seeded random walk of claims, heartbeats, releases, manual releases, recoveries, guarded
   * writes and clock moves (small, large, and exactly to a lease's stale boundary), by owners that
   * sometimes act on an old lease value long after (a paused process). After every step the store
   * must match a reference model of the state machine. A failure names the seed and step; rerun
   * that seed to replay it.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("modelSeedValues")
  public void randomWalkMatchesTheModel(long seed) {
    new ModelWalk(seed).run();
  }

  private static final List<LeasePolicy> MODEL_POLICIES =
      List.of(
          SHORT,
          LONG,
          EXPIRING,
          LeasePolicy.ofTtl(ofSeconds(2)),
          LeasePolicy.of(ofSeconds(20), ofSeconds(2), ofSeconds(6)));

  /** The model's view of one key. */
  private static final class KeyModel {
    Lease current; // null when FREE
    long lastToken; // every granted token must exceed it
    long tokenFloor; // ... and this, raised by manual releases (the token is bumped)
    long lastWriteToken; // accepted guarded writes never go back to an older token
  }

  private final class ModelWalk {
    private final long seed;
    private final Random random;
    private final List<LeaseKey> keys;
    private final List<OwnerId> owners;
    private final Map<LeaseKey, KeyModel> model = new LinkedHashMap<>();

    /** The lease value each owner last got for each key: what a live holder would use. */
    private final Map<OwnerId, Map<LeaseKey, Lease>> latest = new LinkedHashMap<>();

    /** Every lease value ever handed out: what a paused holder might wake up with. */
    private final List<Lease> history = new ArrayList<>();

    private final Deque<String> trace = new ArrayDeque<>();
    private String op;

    ModelWalk(long seed) {
      this.seed = seed;
      this.random = new Random(seed);
      this.keys =
          random.nextBoolean()
              ? List.of(KEY, OTHER_KEY)
              : List.of(KEY, SAME_RESOURCE_OTHER_LANE, OTHER_KEY);
      this.owners =
          random.nextBoolean()
              ? List.of(ALICE, ALICE_RESTARTED, BOB)
              : List.of(ALICE, ALICE_RESTARTED, BOB, CAROL);
      keys.forEach(key -> model.put(key, new KeyModel()));
      owners.forEach(owner -> latest.put(owner, new LinkedHashMap<>()));
    }

    void run() {
      int steps = modelSteps();
      for (int step = 1; step <= steps; step++) {
        op = "?";
        try {
          step();
          checkInvariants();
        } catch (Throwable e) {
          throw new AssertionError(
              "seed="
                  + seed
                  + " step="
                  + step
                  + " op="
                  + op
                  + " at "
                  + now()
                  + ": "
                  + e.getMessage()
                  + "\n  replay with seed "
                  + seed
                  + "; the steps before it:\n    "
                  + String.join("\n    ", trace),
              e);
        }
        trace.addLast(step + ": " + op);
        if (trace.size() > 40) {
          trace.removeFirst();
        }
      }
    }

    private <T> T pick(List<T> from) {
      return from.get(random.nextInt(from.size()));
    }

    private void step() {
      int dice = random.nextInt(100);
      if (dice < 24) {
        claim();
      } else if (dice < 38) {
        withSomeLease(this::heartbeat);
      } else if (dice < 48) {
        withSomeLease(this::release);
      } else if (dice < 60) {
        withSomeLease(this::guardedWrite);
      } else if (dice < 64) {
        releaseManually();
      } else if (dice < 68) {
        recover();
      } else if (dice < 84) {
        advance(Duration.ofNanos(random.nextLong(0, 3_000_000L) * 1_000)); // < 3 s, in µs
      } else if (dice < 88) {
        advance(ofSeconds(random.nextLong(10, 1_200))); // 10 s to 20 min: everyone goes stale
      } else if (dice < 98) {
        advanceToABoundary();
      } else {
        advance(Duration.ofNanos(random.nextInt(1_000))); // below the store's resolution
      }
    }

    /** Acts with a lease some owner has: usually its latest, sometimes an old one (a pause). */
    private void withSomeLease(Consumer<Lease> action) {
      List<Lease> latestValues =
          latest.values().stream().flatMap(m -> m.values().stream()).toList();
      if (latestValues.isEmpty()) {
        claim();
      } else if (random.nextInt(10) < 7) {
        action.accept(pick(latestValues));
      } else {
        action.accept(pick(history));
      }
    }

    private void remember(Lease lease) {
      latest.get(lease.owner()).put(lease.key(), lease);
      history.add(lease);
    }

    private void claim() {
      LeaseKey key = pick(keys);
      OwnerId owner = pick(owners);
      LeasePolicy policy = pick(MODEL_POLICIES);
      op = "claim " + key + " by " + owner + " with " + policy;
      KeyModel k = model.get(key);
      Instant now = now();

      ClaimResult result = store.claim(key, owner, policy);

      if (k.current != null && heldAt(k.current, now)) {
        assertThat(result).as("claim of a HELD lease").isEqualTo(new ClaimResult.Held(k.current));
        return;
      }
      ClaimResult.Granted granted = granted(result);
      long token = granted.lease().token();
      assertThat(token).as("granted token").isGreaterThan(k.lastToken).isGreaterThan(k.tokenFloor);
      assertThat(granted.lease()).isEqualTo(leaseAt(key, owner, token, now, policy));
      assertThat(granted.reclaimedFrom())
          .as("reclaimed from")
          .isEqualTo(Optional.ofNullable(k.current));
      k.current = granted.lease();
      k.lastToken = token;
      remember(granted.lease());
    }

    private void heartbeat(Lease lease) {
      op = "heartbeat " + describe(lease);
      KeyModel k = model.get(lease.key());
      Instant now = now();

      HeartbeatResult result = store.heartbeat(lease);

      if (owns(k.current, lease)) {
        Lease renewed =
            new Lease(
                lease.key(),
                lease.owner(),
                lease.token(),
                k.current.claimedAt(),
                now,
                now.plus(k.current.policy().leaseFor()),
                k.current.policy());
        assertThat(result).isEqualTo(new HeartbeatResult.Renewed(renewed));
        k.current = renewed;
        remember(renewed);
      } else {
        LossReason reason = k.current == null ? LossReason.FREED : LossReason.RECLAIMED;
        assertThat(result)
            .isEqualTo(new HeartbeatResult.Lost(reason, Optional.ofNullable(k.current)));
      }
    }

    private void release(Lease lease) {
      boolean completionThrows = random.nextInt(8) == 0;
      op = "release " + describe(lease) + (completionThrows ? " with a failing completion" : "");
      KeyModel k = model.get(lease.key());
      boolean expected = owns(k.current, lease);
      AtomicInteger completions = new AtomicInteger();
      Completion<W> completion =
          writes -> {
            completions.incrementAndGet();
            if (completionThrows) {
              throw new IllegalStateException("completion fails on purpose");
            }
          };

      if (completionThrows && expected) {
        assertThatThrownBy(() -> store.release(lease, completion))
            .hasStackTraceContaining("completion fails on purpose");
        assertThat(completions).hasValue(1);
        return; // the lease stays held
      }
      assertThat(store.release(lease, completion)).as("released").isEqualTo(expected);
      assertThat(completions).as("completion runs").hasValue(expected ? 1 : 0);
      if (expected) {
        k.current = null;
      }
    }

    private void guardedWrite(Lease lease) {
      boolean writeThrows = random.nextInt(8) == 0;
      op = "guarded write " + describe(lease) + (writeThrows ? " that fails" : "");
      KeyModel k = model.get(lease.key());
      boolean expected = owns(k.current, lease);
      AtomicBoolean ran = new AtomicBoolean();

      ThrowingCall call =
          () ->
              store.inLease(
                  lease,
                  writes -> {
                    ran.set(true);
                    // The fencing check: a write only ever lands under the current token.
                    assertThat(k.current).as("lease on record during the write").isNotNull();
                    assertThat(lease.token())
                        .as("token of an accepted write")
                        .isEqualTo(k.current.token())
                        .isGreaterThanOrEqualTo(k.lastWriteToken);
                    k.lastWriteToken = lease.token();
                    if (writeThrows) {
                      throw new IllegalStateException("write fails on purpose");
                    }
                    return lease.token();
                  });

      if (!expected) {
        assertThatThrownBy(call::call)
            .isInstanceOfSatisfying(
                LeaseLostException.class,
                lost -> {
                  assertThat(lost.key()).isEqualTo(lease.key());
                  assertThat(lost.owner()).isEqualTo(lease.owner());
                  assertThat(lost.token()).isEqualTo(lease.token());
                });
        assertThat(ran).as("write ran although the lease moved on").isFalse();
      } else if (writeThrows) {
        assertThatThrownBy(call::call).hasStackTraceContaining("write fails on purpose");
        assertThat(ran).isTrue();
      } else {
        assertThat(call.call()).isEqualTo(lease.token());
        assertThat(ran).isTrue();
      }
    }

    private void releaseManually() {
      LeaseKey key = pick(keys);
      op = "release " + key + " manually";
      KeyModel k = model.get(key);

      assertThat(store.releaseManually(key, "operator")).isEqualTo(Optional.ofNullable(k.current));

      if (k.current != null) {
        k.tokenFloor = Math.max(k.tokenFloor, k.current.token() + 1);
        k.current = null;
      }
    }

    private void recover() {
      OwnerId self = pick(owners);
      op = "recover by " + self;
      Instant now = now();
      Map<Lease, Set<Reason>> expected = new HashMap<>();
      // The SPI leaves self's leases alone; SPEC §2 says "every STALE lease". A stale lease of
      // self may go either way.
      Set<Lease> mayBeFreed = new HashSet<>();
      for (KeyModel k : model.values()) {
        Lease current = k.current;
        if (current == null) {
          continue;
        }
        if (current.owner().equals(self)) {
          if (!heldAt(current, now)) {
            mayBeFreed.add(current);
          }
          continue;
        }
        Set<Reason> reasons = EnumSet.noneOf(Reason.class);
        if (current.owner().workerName().equals(self.workerName())) {
          reasons.add(Reason.EARLIER_INCARNATION);
        }
        if (!heldAt(current, now)) {
          reasons.add(Reason.STALE);
        }
        if (!reasons.isEmpty()) {
          expected.put(current, reasons);
        }
      }

      RecoveryReport report = store.recover(self);

      assertThat(report.recoveredBy()).isEqualTo(self);
      List<Lease> freedLeases = report.freed().stream().map(Freed::lease).toList();
      assertThat(freedLeases).as("freed").containsAll(expected.keySet());
      for (Freed freed : report.freed()) {
        if (mayBeFreed.contains(freed.lease())) {
          assertThat(freed.reason()).as("reason for %s", freed).isEqualTo(Reason.STALE);
        } else {
          assertThat(expected.get(freed.lease()))
              .as("%s was freed but should not have been", freed)
              .isNotNull()
              .contains(freed.reason());
        }
      }
      assertThat(freedLeases).doesNotHaveDuplicates();
      assertThat(report.countsByLane())
          .isEqualTo(
              freedLeases.stream()
                  .collect(
                      Collectors.groupingBy(
                          l -> l.key().lane(), TreeMap::new, Collectors.summingInt(l -> 1))));
      for (Lease freed : freedLeases) {
        model.get(freed.key()).current = null;
      }
    }

    private void advance(Duration by) {
      op = "advance the clock " + by;
      clock.advance(by);
    }

    /** Moves the clock to a current lease's stale boundary, or one microsecond before it. */
    private void advanceToABoundary() {
      List<Lease> current =
          model.values().stream().map(k -> k.current).filter(l -> l != null).toList();
      if (current.isEmpty()) {
        advance(ofMillis(random.nextInt(2_000)));
        return;
      }
      Lease lease = pick(current);
      Instant boundary = staleAt(lease);
      Instant target = random.nextBoolean() ? boundary : boundary.minus(MICRO);
      op = "set the clock to " + target + " (stale boundary of " + describe(lease) + ")";
      if (target.isAfter(clock.instant())) {
        clock.set(target);
      }
    }

    private void checkInvariants() {
      Instant now = now();
      assertThat(store.now()).as("store now").isEqualTo(now);
      List<Lease> expectedList = new ArrayList<>();
      for (Map.Entry<LeaseKey, KeyModel> entry : model.entrySet()) {
        Lease current = entry.getValue().current;
        assertThat(store.find(entry.getKey()))
            .as("find %s", entry.getKey())
            .isEqualTo(Optional.ofNullable(current));
        if (current != null) {
          expectedList.add(current);
        }
        // At most one owner whose lease the store would accept, and so at most one HELD owner.
        long accepted =
            latest.values().stream()
                .map(m -> m.get(entry.getKey()))
                .filter(l -> l != null && owns(current, l))
                .map(Lease::owner)
                .distinct()
                .count();
        assertThat(accepted).as("owners holding %s", entry.getKey()).isLessThanOrEqualTo(1);
      }
      expectedList.sort(
          Comparator.comparing((Lease l) -> l.key().resource()).thenComparing(l -> l.key().lane()));
      assertThat(store.list()).as("list").isEqualTo(expectedList);
    }

    private String describe(Lease lease) {
      return lease.key() + " by " + lease.owner() + " token " + lease.token();
    }
  }

  /** A call whose thrown exception the walk asserts on. */
  @FunctionalInterface
  private interface ThrowingCall {
    Object call();
  }

  /**
   * The model's own reading of HELD: {@code expiresAt > now} and {@code heartbeatAt > now −
   * staleAfter}.
   */
  private static boolean heldAt(Lease lease, Instant now) {
    return lease.expiresAt().compareTo(now) > 0
        && lease.heartbeatAt().compareTo(now.minus(lease.policy().staleAfter())) > 0;
  }

  private static Instant staleAt(Lease lease) {
    Instant byHeartbeat = lease.heartbeatAt().plus(lease.policy().staleAfter());
    return byHeartbeat.isBefore(lease.expiresAt()) ? byHeartbeat : lease.expiresAt();
  }

  /**
   * True when the store would accept {@code lease}: same key, owner and token as {@code current}.
   */
  private static boolean owns(Lease current, Lease lease) {
    return current != null
        && current.key().equals(lease.key())
        && current.owner().equals(lease.owner())
        && current.token() == lease.token();
  }
}
