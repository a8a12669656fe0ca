package dev.changesync.lease;

import static java.time.Duration.ofMillis;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.lease.testing.DeterministicScheduler;
import dev.changesync.lease.testing.ForwardingLeaseStore;
import dev.changesync.lease.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Batched heartbeats on virtual time: every lease of the runner's runs is renewed by one {@link
 * LeaseStore#heartbeatAll} call per interval, each result reaches its own run, and self-distrust
 * stays per run.
 */
class LeaseRunnerBatchTest {

  private static final long WAIT_SECONDS = 10;
  private static final OwnerId OWNER = new OwnerId("worker-1", "w1");

  /** Heartbeat every 1 s, stale after 3 s. */
  private static final LeasePolicy POLICY =
      LeasePolicy.of(ofSeconds(30), ofSeconds(1), ofSeconds(3));

  private final MutableClock clock = new MutableClock();
  private final DeterministicScheduler scheduler = new DeterministicScheduler(clock);
  private final InMemoryLeaseStore store = new InMemoryLeaseStore(clock, LeaseListener.NONE);
  private final List<Integer> batchSizes = new ArrayList<>();
  private final AtomicBoolean failing = new AtomicBoolean();
  /** When set, a batched heartbeat says it has started and then waits for this latch. */
  private volatile CountDownLatch heartbeatGate;
  private final CountDownLatch heartbeatEntered = new CountDownLatch(1);
  private final List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<Work> works = new ArrayList<>();

  /** The store as the runner sees it: counts single and batched heartbeats, can fail them. */
  private final LeaseStore<Lease> counting =
      new ForwardingLeaseStore<>(store) {
        @Override
        public HeartbeatResult heartbeat(Lease lease) {
          throw new AssertionError("batched runs must not heartbeat one by one");
        }

        @Override
        public List<HeartbeatResult> heartbeatAll(List<Lease> leases) {
          synchronized (batchSizes) {
            batchSizes.add(leases.size());
          }
          // As the PostgreSQL store: the leases of one call must be of different keys.
          if (leases.stream().map(Lease::key).distinct().count() != leases.size()) {
            throw new IllegalArgumentException("heartbeatAll got a key more than once: " + leases);
          }
          if (failing.get()) {
            throw new IllegalStateException("database unreachable");
          }
          CountDownLatch gate = heartbeatGate;
          if (gate != null) {
            heartbeatEntered.countDown();
            try {
              gate.await(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          List<HeartbeatResult> results = leases.stream().map(store::heartbeat).toList();
          calls.add("heartbeat " + results.get(0).getClass().getSimpleName());
          return results;
        }

        @Override
        public boolean release(Lease lease, Completion<Lease> completion) {
          calls.add("release");
          return store.release(lease, completion);
        }
      };

  private final LeaseRunner<Lease> runner =
      LeaseRunner.builder(counting, scheduler)
          .ticker(scheduler.ticker())
          .batchHeartbeats(true)
          .build();

  @AfterEach
  void finishEverything() throws Exception {
    works.forEach(w -> w.finish.countDown());
    for (Work w : works) {
      w.outcome.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }
    assertThat(scheduler.failures()).as("exceptions thrown by scheduled tasks").isEmpty();
  }

  /** Work that runs until the test lets it finish, or until it is cancelled. */
  private final class Work implements LeaseWork<Lease> {
    final CountDownLatch started = new CountDownLatch(1);
    final CountDownLatch finish = new CountDownLatch(1);
    final CompletableFuture<RunOutcome> outcome = new CompletableFuture<>();
    volatile Cancellation cancellation;
    volatile Duration cancelledAt;

    @Override
    public Completion<Lease> run(Lease lease, Cancellation cancellation) throws Exception {
      this.cancellation = cancellation;
      started.countDown();
      try {
        finish.await(WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        cancelledAt = scheduler.elapsed();
      }
      return Completion.none();
    }
  }

  private Work start(String resource) throws InterruptedException {
    Work work = new Work();
    works.add(work);
    Thread thread =
        new Thread(
            () -> {
              try {
                work.outcome.complete(
                    runner.claimAndRun(LeaseKey.of(resource, "fetch"), OWNER, POLICY, work)
                        .orElseThrow());
              } catch (Throwable t) {
                work.outcome.completeExceptionally(t);
              }
            },
            "lease-work-" + resource);
    thread.setDaemon(true);
    thread.start();
    assertThat(work.started.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    return work;
  }

  private Instant heartbeatAt(String resource) {
    return store.find(LeaseKey.of(resource, "fetch")).orElseThrow().heartbeatAt();
  }

  @Test
  void everyLeaseIsRenewedByOneCallPerInterval() throws Exception {
    start("repo:1");
    start("repo:2");
    start("repo:3");
    Instant claimedAt = clock.instant();

    for (int n = 1; n <= 10; n++) {
      scheduler.advance(ofSeconds(1));
      assertThat(batchSizes).as("calls after %s s", n).hasSize(n).last().isEqualTo(3);
      for (String resource : List.of("repo:1", "repo:2", "repo:3")) {
        assertThat(heartbeatAt(resource)).isEqualTo(claimedAt.plusSeconds(n));
      }
    }
    assertThat(works).allSatisfy(w -> assertThat(w.cancellation.isCancelled()).isFalse());
  }

  @Test
  void aRunThatStartsBetweenTicksJoinsTheNextOne() throws Exception {
    start("repo:1");
    scheduler.advance(ofMillis(400));
    start("repo:2");

    scheduler.advance(ofMillis(600));
    assertThat(batchSizes).containsExactly(2);
    assertThat(heartbeatAt("repo:2")).isEqualTo(heartbeatAt("repo:1"));
  }

  @Test
  void aLeaseLostByTheBatchCancelsOnlyItsOwnRun() throws Exception {
    Work first = start("repo:1");
    Work second = start("repo:2");
    Work third = start("repo:3");

    store.releaseManually(LeaseKey.of("repo:2", "fetch"), "operator");
    scheduler.advance(ofSeconds(1));

    assertThat(second.outcome.get(WAIT_SECONDS, TimeUnit.SECONDS))
        .isInstanceOfSatisfying(
            RunOutcome.Lost.class, lost -> assertThat(lost.reason()).isEqualTo(LossReason.FREED));
    assertThat(first.cancellation.isCancelled()).isFalse();
    assertThat(third.cancellation.isCancelled()).isFalse();
    scheduler.advance(ofSeconds(1));
    assertThat(batchSizes).containsExactly(3, 2);
  }

  @Test
  void aKeyReleasedByHandAndClaimedAgainIsRenewedBesideTheRunItSuperseded() throws Exception {
    Work superseded = start("repo:1");
    store.releaseManually(LeaseKey.of("repo:1", "fetch"), "operator");
    Work successor = start("repo:1");
    Instant claimedAgainAt = clock.instant();

    scheduler.advance(ofSeconds(1));

    assertThat(superseded.outcome.get(WAIT_SECONDS, TimeUnit.SECONDS))
        .isInstanceOf(RunOutcome.Lost.class);
    assertThat(batchSizes).as("one call per lease of the key").containsExactly(1, 1);
    assertThat(heartbeatAt("repo:1")).isEqualTo(claimedAgainAt.plusSeconds(1));
    // Past stale-after the successor still holds its lease: its heartbeats never failed.
    scheduler.advance(ofSeconds(4));
    assertThat(successor.cancellation.isCancelled()).isFalse();
    assertThat(heartbeatAt("repo:1")).isEqualTo(claimedAgainAt.plusSeconds(5));
  }

  @Test
  void whileBatchesFailEachRunIsCancelledAtItsOwnStaleAfter() throws Exception {
    failing.set(true);
    Work early = start("repo:1");
    scheduler.advance(ofMillis(1500));
    Work late = start("repo:2");

    scheduler.advance(ofMillis(1500).minusNanos(1));
    assertThat(early.cancellation.isCancelled()).isFalse();
    scheduler.advance(Duration.ofNanos(1));
    assertThat(early.outcome.get(WAIT_SECONDS, TimeUnit.SECONDS))
        .isInstanceOfSatisfying(
            RunOutcome.Lost.class,
            lost -> assertThat(lost.reason()).isEqualTo(LossReason.NO_HEARTBEAT));
    assertThat(early.cancelledAt).isEqualTo(ofSeconds(3));
    assertThat(late.cancellation.isCancelled()).isFalse();

    scheduler.advance(ofMillis(1500));
    assertThat(late.outcome.get(WAIT_SECONDS, TimeUnit.SECONDS))
        .isInstanceOf(RunOutcome.Lost.class);
    assertThat(late.cancelledAt).isEqualTo(ofMillis(4500));
  }

  @Test
  void theBatchStopsTickingWhenItsLastRunEnds() throws Exception {
    Work only = start("repo:1");
    scheduler.advance(ofSeconds(1));
    only.finish.countDown();
    assertThat(only.outcome.get(WAIT_SECONDS, TimeUnit.SECONDS))
        .isEqualTo(new RunOutcome.Completed(true));

    scheduler.advance(ofSeconds(5));
    assertThat(batchSizes).containsExactly(1);
    assertThat(scheduler.pendingTasks()).isZero();

    // A new run starts the tick again.
    start("repo:2");
    scheduler.advance(ofSeconds(1));
    assertThat(batchSizes).containsExactly(1, 1);
  }

  @Test
  void aReleaseWaitsForTheHeartbeatOnItsWaySoThatHeartbeatIsNotRefused() throws Exception {
    Work work = start("repo:1");
    heartbeatGate = new CountDownLatch(1);
    Thread ticking = new Thread(() -> scheduler.advance(ofSeconds(1)), "advance");
    ticking.start();
    assertThat(heartbeatEntered.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

    work.finish.countDown();
    // The run is over, but its release waits for the heartbeat that is already on its way.
    Thread.sleep(100);
    assertThat(work.outcome).isNotDone();
    assertThat(calls).isEmpty();

    heartbeatGate.countDown();
    assertThat(work.outcome.get(WAIT_SECONDS, TimeUnit.SECONDS))
        .isEqualTo(new RunOutcome.Completed(true));
    ticking.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
    assertThat(calls).containsExactly("heartbeat Renewed", "release");
  }

  @Test
  void heartbeatAllOfTheInMemoryStoreMatchesHeartbeatOneByOne() {
    Map<String, Lease> leases = new ConcurrentHashMap<>();
    for (String r : List.of("a", "b", "c")) {
      leases.put(r, store.claim(LeaseKey.of(r, "fetch"), OWNER, POLICY).granted().orElseThrow());
    }
    store.releaseManually(LeaseKey.of("b", "fetch"), "operator");
    clock.advance(ofSeconds(1));

    List<HeartbeatResult> results =
        store.heartbeatAll(List.of(leases.get("a"), leases.get("b"), leases.get("c")));

    assertThat(results).hasSize(3);
    assertThat(results.get(0)).isInstanceOf(HeartbeatResult.Renewed.class);
    assertThat(results.get(1)).isInstanceOf(HeartbeatResult.Lost.class);
    assertThat(results.get(2)).isInstanceOf(HeartbeatResult.Renewed.class);
  }
}
