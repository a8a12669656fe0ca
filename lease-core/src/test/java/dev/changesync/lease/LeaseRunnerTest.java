package dev.changesync.lease;

import static java.time.Duration.ofMillis;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.Uninterruptibles;
import dev.changesync.lease.testing.DeterministicScheduler;
import dev.changesync.lease.testing.ForwardingLeaseStore;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.lease.testing.RecordingLeaseListener;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The lease runner on virtual time: a {@link DeterministicScheduler} runs its heartbeats and
 * deadline checks (on the test thread, inside {@code advance}) and is its ticker; the store's clock
 * is linked to it. The work runs on a real thread the test starts, because {@code run} blocks while
 * the work runs; it waits on latches, so every step is ordered by the test.
 */
class LeaseRunnerTest {

  private static final long WAIT_SECONDS = 10;
  private static final LeaseKey KEY = LeaseKey.of("repo:42", "fetch");
  private static final OwnerId OWNER = new OwnerId("worker-1", "w1");
  private static final OwnerId OTHER = new OwnerId("worker-2", "w2");

  /** Heartbeat every 1 s, stale after 3 s. */
  private static final LeasePolicy POLICY =
      LeasePolicy.of(ofSeconds(30), ofSeconds(1), ofSeconds(3));

  private final MutableClock clock = new MutableClock();
  private final DeterministicScheduler scheduler = new DeterministicScheduler(clock);
  private final RecordingLeaseListener events = new RecordingLeaseListener();
  private final InMemoryLeaseStore store = new InMemoryLeaseStore(clock, events);
  private final List<Runnable> cleanups = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    cleanups.forEach(Runnable::run);
    assertThat(scheduler.failures()).as("exceptions thrown by scheduled tasks").isEmpty();
  }

  private LeaseRunner<Lease> runner(LeaseStore<Lease> store) {
    return LeaseRunner.builder(store, scheduler).ticker(scheduler.ticker()).build();
  }

  // ------------------------------------------------------------ test helpers

  /** How {@link BlockingWork} reacts to an interrupt while it waits to be told to finish. */
  private enum OnInterrupt {
    /** Catches the InterruptedException and returns normally (the flag stays clear). */
    SWALLOW,
    /** Lets the InterruptedException out. */
    RETHROW,
    /** Waits on uninterruptibly, and returns with the interrupt flag set. */
    KEEP_WAITING
  }

  /** Work that blocks until the test lets it finish, recording what it saw. */
  private static final class BlockingWork implements LeaseWork<Lease> {
    final OnInterrupt onInterrupt;
    final CountDownLatch started = new CountDownLatch(1);
    final CountDownLatch finish = new CountDownLatch(1);
    volatile Completion<Lease> completion = Completion.none();
    volatile Completion<Lease> failureCompletion = Completion.none();
    volatile Throwable failureCause;
    volatile Cancellation cancellation;
    volatile Thread thread;
    volatile Lease lease;
    volatile boolean sawInterrupt;
    volatile boolean interruptFlagAtReturn;

    BlockingWork(OnInterrupt onInterrupt) {
      this.onInterrupt = onInterrupt;
    }

    @Override
    public Completion<Lease> run(Lease lease, Cancellation cancellation) throws Exception {
      this.lease = lease;
      this.cancellation = cancellation;
      this.thread = Thread.currentThread();
      started.countDown();
      if (onInterrupt == OnInterrupt.KEEP_WAITING) {
        if (!Uninterruptibles.awaitUninterruptibly(finish, WAIT_SECONDS, TimeUnit.SECONDS)) {
          throw new AssertionError("work was never told to finish");
        }
        sawInterrupt = Thread.currentThread().isInterrupted();
      } else {
        try {
          if (!finish.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError("work was never told to finish");
          }
        } catch (InterruptedException e) {
          sawInterrupt = true;
          if (onInterrupt == OnInterrupt.RETHROW) {
            throw e;
          }
        }
      }
      interruptFlagAtReturn = Thread.currentThread().isInterrupted();
      return completion;
    }

    @Override
    public Completion<Lease> onFailure(Throwable cause) {
      failureCause = cause;
      return failureCompletion;
    }

    void awaitStarted() throws InterruptedException {
      assertThat(started.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("work started").isTrue();
    }
  }

  /** What happened on the work thread: the outcome, and its interrupt flag once run returned. */
  private record Finished(Optional<RunOutcome> outcome, boolean interruptedAfterRun) {
    RunOutcome get() {
      return outcome.orElseThrow();
    }
  }

  /** Calls the runner on a new thread, as a worker would; {@code run} blocks that thread. */
  private CompletableFuture<Finished> onWorkThread(Supplier<Optional<RunOutcome>> call) {
    CompletableFuture<Finished> finished = new CompletableFuture<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                Optional<RunOutcome> outcome = call.get();
                finished.complete(new Finished(outcome, Thread.interrupted()));
              } catch (Throwable t) {
                finished.completeExceptionally(t);
              }
            },
            "lease-work");
    thread.setDaemon(true);
    thread.start();
    return finished;
  }

  private CompletableFuture<Finished> claimAndRun(
      LeaseRunner<Lease> runner, LeaseWork<Lease> work) {
    return onWorkThread(() -> runner.claimAndRun(KEY, OWNER, POLICY, work));
  }

  private static Finished await(CompletableFuture<Finished> finished) throws Exception {
    return finished.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  private int heartbeats() {
    return events.events(RecordingLeaseListener.Heartbeat.class).size();
  }

  // ------------------------------------------------------------ heartbeats

  @Test
  void heartbeatsEveryIntervalWhileTheWorkRuns() throws Exception {
    BlockingWork work = new BlockingWork(OnInterrupt.RETHROW);
    CompletableFuture<Finished> finished = claimAndRun(runner(store), work);
    work.awaitStarted();
    Instant claimedAt = work.lease.claimedAt();

    scheduler.advance(ofMillis(999));
    assertThat(heartbeats()).isZero();
    scheduler.advance(ofMillis(1));
    assertThat(heartbeats()).isEqualTo(1);
    for (int n = 2; n <= 10; n++) {
      scheduler.advance(ofSeconds(1));
      assertThat(heartbeats()).as("heartbeats after %s s", n).isEqualTo(n);
      assertThat(store.find(KEY).orElseThrow().heartbeatAt()).isEqualTo(claimedAt.plusSeconds(n));
    }
    // Ten seconds in, far past the 3 s stale-after: still held thanks to the heartbeats.
    assertThat(store.claim(KEY, OTHER, POLICY)).isInstanceOf(ClaimResult.Held.class);
    assertThat(work.cancellation.isCancelled()).isFalse();

    work.finish.countDown();
    assertThat(await(finished).get()).isEqualTo(new RunOutcome.Completed(true));
    assertThat(store.find(KEY)).isEmpty();
    // Heartbeats and deadline checks end with the work.
    assertThat(scheduler.pendingTasks()).isZero();
    scheduler.advance(ofSeconds(10));
    assertThat(heartbeats()).isEqualTo(10);
  }

  @Test
  void claimAndRunReturnsEmptyAndRunsNothingWhenTheLeaseIsHeld() {
    store.claim(KEY, OTHER, POLICY);
    AtomicBoolean ran = new AtomicBoolean();

    Optional<RunOutcome> outcome =
        runner(store)
            .claimAndRun(
                KEY,
                OWNER,
                POLICY,
                (lease, cancellation) -> {
                  ran.set(true);
                  return Completion.none();
                });

    assertThat(outcome).isEmpty();
    assertThat(ran).isFalse();
    assertThat(scheduler.pendingTasks()).isZero();
  }

  // ------------------------------------------------------------ losing the lease

  @Test
  void manualReleaseCancelsTheWorkAtTheNextHeartbeat() throws Exception {
    BlockingWork work = new BlockingWork(OnInterrupt.SWALLOW);
    CompletableFuture<Finished> finished = claimAndRun(runner(store), work);
    work.awaitStarted();

    store.releaseManually(KEY, "operator");
    assertThat(work.cancellation.isCancelled()).isFalse();
    scheduler.advance(ofSeconds(1));

    assertThat(work.cancellation.reason())
        .hasValueSatisfying(r -> assertThat(r).contains("released"));
    Finished result = await(finished);
    assertThat(result.get())
        .isInstanceOfSatisfying(
            RunOutcome.Lost.class,
            lost -> {
              assertThat(lost.reason()).isEqualTo(LossReason.FREED);
              assertThat(lost.detail()).isEqualTo(work.cancellation.reason().orElseThrow());
              assertThat(lost.released()).as("release refused: the lease is not ours").isFalse();
            });
    assertThat(work.sawInterrupt).as("work thread interrupted").isTrue();
    assertThat(work.failureCause).isInstanceOf(LeaseLostException.class);
    assertThat(result.interruptedAfterRun()).as("runner's interrupt leaked").isFalse();
    assertThat(store.find(KEY)).isEmpty();
  }

  @Test
  void reclaimCancelsTheWorkAtTheNextHeartbeat() throws Exception {
    BlockingWork work = new BlockingWork(OnInterrupt.RETHROW);
    CompletableFuture<Finished> finished = claimAndRun(runner(store), work);
    work.awaitStarted();

    // The store's clock jumps past stale-after (the holder's process was paused, say) and another
    // worker reclaims; the holder's own monotonic clock did not move.
    clock.advance(POLICY.staleAfter());
    Lease other = store.claim(KEY, OTHER, POLICY).granted().orElseThrow();
    scheduler.advance(ofSeconds(1));

    assertThat(work.cancellation.isCancelled()).isTrue();
    assertThat(await(finished).get())
        .isInstanceOfSatisfying(
            RunOutcome.Lost.class,
            lost -> {
              assertThat(lost.reason()).isEqualTo(LossReason.RECLAIMED);
              assertThat(lost.detail()).contains(OTHER.toString());
              assertThat(lost.released()).isFalse();
            });
    assertThat(work.failureCause).isInstanceOf(InterruptedException.class);
    assertThat(store.find(KEY)).contains(other);
  }

  @Test
  void workIsCancelledWhenNoHeartbeatSucceedsForStaleAfter() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    LeaseStore<Lease> unreachable =
        new ForwardingLeaseStore<>(store) {
          @Override
          public HeartbeatResult heartbeat(Lease lease) {
            attempts.incrementAndGet();
            throw new IllegalStateException("database unreachable");
          }
        };
    BlockingWork work = new BlockingWork(OnInterrupt.SWALLOW);
    AtomicReference<Lease> failureUpdates = new AtomicReference<>();
    work.failureCompletion = failureUpdates::set;
    CompletableFuture<Finished> finished = claimAndRun(runner(unreachable), work);
    work.awaitStarted();

    scheduler.advance(ofSeconds(3).minusNanos(1));
    assertThat(attempts).as("heartbeats retried every interval").hasValue(2);
    assertThat(work.cancellation.isCancelled()).isFalse();
    scheduler.advance(Duration.ofNanos(1));
    assertThat(work.cancellation.isCancelled()).isTrue();

    assertThat(await(finished).get())
        .isInstanceOfSatisfying(
            RunOutcome.Lost.class,
            lost -> {
              assertThat(lost.reason()).isEqualTo(LossReason.NO_HEARTBEAT);
              // The store itself still shows the lease as ours, so the release lands.
              assertThat(lost.released()).isTrue();
            });
    assertThat(work.failureCause).isInstanceOf(LeaseLostException.class);
    assertThat(failureUpdates.get()).isNotNull();
    assertThat(store.find(KEY)).isEmpty();
  }

  @Test
  void slowHeartbeatDoesNotExtendTrust() throws Exception {
    Semaphore heartbeatEntered = new Semaphore(0);
    Semaphore heartbeatMayProceed = new Semaphore(0);
    LeaseStore<Lease> slow =
        new ForwardingLeaseStore<>(store) {
          @Override
          public HeartbeatResult heartbeat(Lease lease) {
            heartbeatEntered.release();
            try {
              if (!heartbeatMayProceed.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("heartbeat never allowed to proceed");
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IllegalStateException(e);
            }
            return super.heartbeat(lease);
          }
        };
    // Heartbeat calls run on a real thread; the test learns when each has fully finished.
    ExecutorService heartbeatThread =
        Executors.newSingleThreadExecutor(r -> new Thread(r, "changesync-heartbeat-test"));
    cleanups.add(
        () -> {
          heartbeatMayProceed.release(100);
          heartbeatThread.shutdownNow();
        });
    Semaphore heartbeatDone = new Semaphore(0);
    Executor heartbeatExecutor =
        command ->
            heartbeatThread.execute(
                () -> {
                  try {
                    command.run();
                  } finally {
                    heartbeatDone.release();
                  }
                });
    LeaseRunner<Lease> runner =
        LeaseRunner.builder(slow, scheduler)
            .ticker(scheduler.ticker())
            .heartbeatExecutor(heartbeatExecutor)
            .build();
    BlockingWork work = new BlockingWork(OnInterrupt.SWALLOW);
    CompletableFuture<Finished> finished = claimAndRun(runner, work);
    work.awaitStarted();

    // The first heartbeat call starts at 1 s and takes until 2.5 s.
    scheduler.advance(ofSeconds(1));
    assertThat(heartbeatEntered.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    scheduler.advance(ofMillis(1_500));
    heartbeatMayProceed.release();
    assertThat(heartbeatDone.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    assertThat(store.find(KEY).orElseThrow().heartbeatAt())
        .as("the store renewed late")
        .isEqualTo(MutableClock.DEFAULT_START.plusMillis(2_500));

    // The next one starts at 3.5 s and hangs.
    scheduler.advance(ofSeconds(1));
    assertThat(heartbeatEntered.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

    // Trust runs from the start of the last successful call: 1 s + 3 s = 4 s, not 2.5 s + 3 s.
    scheduler.advance(ofMillis(500).minusNanos(1));
    assertThat(work.cancellation.isCancelled()).as("cancelled before 4 s").isFalse();
    scheduler.advance(Duration.ofNanos(1));
    assertThat(work.cancellation.isCancelled()).as("cancelled at 4 s").isTrue();

    heartbeatMayProceed.release();
    assertThat(await(finished).get())
        .isInstanceOfSatisfying(
            RunOutcome.Lost.class,
            lost -> assertThat(lost.reason()).isEqualTo(LossReason.NO_HEARTBEAT));
  }

  @Test
  void trustIsMeasuredFromTheStartOfTheClaim() throws Exception {
    LeaseStore<Lease> slowClaimNoHeartbeat =
        new ForwardingLeaseStore<>(store) {
          @Override
          public ClaimResult claim(LeaseKey key, OwnerId owner, LeasePolicy policy) {
            ClaimResult result = super.claim(key, owner, policy);
            scheduler.advance(ofSeconds(1)); // the claim's answer took a second to come back
            return result;
          }

          @Override
          public HeartbeatResult heartbeat(Lease lease) {
            throw new IllegalStateException("database unreachable");
          }
        };
    BlockingWork work = new BlockingWork(OnInterrupt.SWALLOW);
    CompletableFuture<Finished> finished = claimAndRun(runner(slowClaimNoHeartbeat), work);
    work.awaitStarted();
    assertThat(scheduler.elapsed()).isEqualTo(ofSeconds(1));

    scheduler.advance(ofSeconds(2).minusNanos(1));
    assertThat(work.cancellation.isCancelled()).isFalse();
    scheduler.advance(Duration.ofNanos(1));
    assertThat(work.cancellation.isCancelled())
        .as("cancelled 3 s after the claim started")
        .isTrue();

    assertThat(await(finished).get()).isInstanceOf(RunOutcome.Lost.class);
  }

  @Test
  void aClaimMadeOutsideTheRunnerStartsTrustWhenItStarted() {
    LeaseRunner<Lease> runner = runner(store);
    long trustStart = runner.trustStart();
    Lease lease = ((ClaimResult.Granted) store.claim(KEY, OWNER, POLICY)).lease();
    scheduler.advance(POLICY.staleAfter()); // claim-next's answer took stale-after to come back
    AtomicBoolean ran = new AtomicBoolean();

    RunOutcome outcome =
        runner.run(
            lease,
            trustStart,
            (held, cancellation) -> {
              ran.set(true);
              return Completion.none();
            });

    assertThat(ran).as("work ran on an untrusted lease").isFalse();
    assertThat(outcome)
        .isInstanceOfSatisfying(
            RunOutcome.Lost.class,
            lost -> assertThat(lost.reason()).isEqualTo(LossReason.NO_HEARTBEAT));
  }

  @Test
  void workDoesNotStartWhenTheClaimItselfTookStaleAfter() throws Exception {
    LeaseStore<Lease> verySlowClaim =
        new ForwardingLeaseStore<>(store) {
          @Override
          public ClaimResult claim(LeaseKey key, OwnerId owner, LeasePolicy policy) {
            ClaimResult result = super.claim(key, owner, policy);
            scheduler.advance(POLICY.staleAfter());
            return result;
          }
        };
    AtomicBoolean ran = new AtomicBoolean();

    Finished result =
        await(
            claimAndRun(
                runner(verySlowClaim),
                (lease, cancellation) -> {
                  ran.set(true);
                  return Completion.none();
                }));

    assertThat(ran).as("work ran on an untrusted lease").isFalse();
    assertThat(result.get())
        .isInstanceOfSatisfying(
            RunOutcome.Lost.class,
            lost -> {
              assertThat(lost.reason()).isEqualTo(LossReason.NO_HEARTBEAT);
              assertThat(lost.released()).isTrue();
            });
    assertThat(result.interruptedAfterRun()).isFalse();
    assertThat(store.find(KEY)).isEmpty();
    assertThat(scheduler.pendingTasks()).isZero();
  }

  @Test
  void workIsCancelledWhenTheSchedulerRejectsTheDeadlineCheck() throws Exception {
    BlockingWork work = new BlockingWork(OnInterrupt.SWALLOW);
    CompletableFuture<Finished> finished = claimAndRun(runner(store), work);
    work.awaitStarted();

    scheduler.shutdown(); // tasks already scheduled still run; nothing new is accepted
    scheduler.advance(ofSeconds(1)); // the heartbeat runs but cannot schedule the next one
    assertThat(heartbeats()).isEqualTo(1);
    assertThat(work.cancellation.isCancelled()).isFalse();
    scheduler.advance(ofSeconds(2)); // the deadline check runs and cannot reschedule itself

    assertThat(work.cancellation.isCancelled())
        .as("work must not run on with nothing watching its lease")
        .isTrue();
    assertThat(await(finished).get())
        .isInstanceOfSatisfying(
            RunOutcome.Lost.class,
            lost -> assertThat(lost.reason()).isEqualTo(LossReason.NO_HEARTBEAT));
  }

  // ------------------------------------------------------------ release

  @Test
  void releaseAfterSuccessAppliesTheWorksCompletion() throws Exception {
    BlockingWork work = new BlockingWork(OnInterrupt.RETHROW);
    AtomicReference<Lease> completedWith = new AtomicReference<>();
    work.completion = completedWith::set;
    CompletableFuture<Finished> finished = claimAndRun(runner(store), work);
    work.awaitStarted();
    scheduler.advance(ofSeconds(2));

    work.finish.countDown();

    assertThat(await(finished).get()).isEqualTo(new RunOutcome.Completed(true));
    assertThat(completedWith.get().sameOwnership(work.lease)).isTrue();
    assertThat(completedWith.get().heartbeatAt())
        .as("the renewed lease")
        .isEqualTo(clock.instant());
    assertThat(events.events(RecordingLeaseListener.Released.class)).hasSize(1);
    assertThat(store.find(KEY)).isEmpty();
  }

  @Test
  void releaseAfterFailureAppliesTheFailureCompletion() throws Exception {
    IOException boom = new IOException("GitHub answered 502");
    AtomicReference<Throwable> failedWith = new AtomicReference<>();
    AtomicBoolean updatesApplied = new AtomicBoolean();
    LeaseWork<Lease> failing =
        new LeaseWork<>() {
          @Override
          public Completion<Lease> run(Lease lease, Cancellation cancellation) throws IOException {
            throw boom;
          }

          @Override
          public Completion<Lease> onFailure(Throwable cause) {
            failedWith.set(cause);
            return writes -> updatesApplied.set(true);
          }
        };

    Finished result = await(claimAndRun(runner(store), failing));

    assertThat(result.get()).isEqualTo(new RunOutcome.Failed(boom, true));
    assertThat(failedWith).hasValue(boom);
    assertThat(updatesApplied).isTrue();
    assertThat(store.find(KEY)).isEmpty();
    assertThat(scheduler.pendingTasks()).isZero();
  }

  @Test
  void completionThatThrowsStillReleasesTheLeaseWithoutIt() throws Exception {
    Finished result =
        await(
            claimAndRun(
                runner(store),
                (lease, cancellation) ->
                    writes -> {
                      throw new IllegalStateException("completion updates failed");
                    }));

    assertThat(result.get()).isEqualTo(new RunOutcome.Completed(true));
    assertThat(store.find(KEY)).isEmpty();
  }

  @Test
  void failureCompletionThatThrowsStillReleasesTheLease() throws Exception {
    LeaseWork<Lease> failing =
        new LeaseWork<>() {
          @Override
          public Completion<Lease> run(Lease lease, Cancellation cancellation) {
            throw new IllegalArgumentException("bad page");
          }

          @Override
          public Completion<Lease> onFailure(Throwable cause) {
            throw new IllegalStateException("cannot even describe the failure");
          }
        };

    Finished result = await(claimAndRun(runner(store), failing));

    assertThat(result.get())
        .isInstanceOfSatisfying(RunOutcome.Failed.class, f -> assertThat(f.released()).isTrue());
    assertThat(store.find(KEY)).isEmpty();
  }

  @Test
  void errorFromTheWorkReleasesTheLeaseAndPropagates() {
    Error fatal = new Error("fatal");

    CompletableFuture<Finished> finished =
        claimAndRun(
            runner(store),
            (lease, cancellation) -> {
              throw fatal;
            });

    assertThat(finished)
        .failsWithin(Duration.ofSeconds(WAIT_SECONDS))
        .withThrowableThat()
        .havingCause()
        .isSameAs(fatal);
    assertThat(store.find(KEY)).isEmpty();
  }

  // ------------------------------------------------------------ interrupts

  @Test
  void runnersInterruptLeftPendingByTheWorkIsCleared() throws Exception {
    BlockingWork work = new BlockingWork(OnInterrupt.KEEP_WAITING);
    CompletableFuture<Finished> finished = claimAndRun(runner(store), work);
    work.awaitStarted();
    store.releaseManually(KEY, "operator");
    scheduler.advance(ofSeconds(1));
    assertThat(work.cancellation.isCancelled()).isTrue();

    work.finish.countDown();

    Finished result = await(finished);
    assertThat(work.interruptFlagAtReturn).as("work returned with the runner's interrupt").isTrue();
    assertThat(result.interruptedAfterRun()).isFalse();
    assertThat(result.get()).isInstanceOf(RunOutcome.Lost.class);
  }

  @Test
  void runnersInterruptEndingTheWorkWithInterruptedExceptionIsNotRestored() throws Exception {
    BlockingWork work = new BlockingWork(OnInterrupt.RETHROW);
    CompletableFuture<Finished> finished = claimAndRun(runner(store), work);
    work.awaitStarted();
    store.releaseManually(KEY, "operator");
    scheduler.advance(ofSeconds(1));

    Finished result = await(finished);

    assertThat(result.get()).isInstanceOf(RunOutcome.Lost.class);
    assertThat(result.interruptedAfterRun()).isFalse();
  }

  @Test
  void someoneElsesInterruptLeftPendingIsKeptAndDoesNotStopTheRelease() throws Exception {
    BlockingWork work = new BlockingWork(OnInterrupt.KEEP_WAITING);
    CompletableFuture<Finished> finished = claimAndRun(runner(store), work);
    work.awaitStarted();

    work.thread.interrupt(); // say, the worker is shutting down
    work.finish.countDown();

    Finished result = await(finished);
    assertThat(work.interruptFlagAtReturn).isTrue();
    assertThat(result.get()).isEqualTo(new RunOutcome.Completed(true));
    assertThat(result.interruptedAfterRun()).as("the caller's interrupt is kept").isTrue();
    assertThat(store.find(KEY)).isEmpty();
  }

  @Test
  void interruptTheWorkGaveItselfIsKept() throws Exception {
    Finished result =
        await(
            claimAndRun(
                runner(store),
                (lease, cancellation) -> {
                  Thread.currentThread().interrupt();
                  return Completion.none();
                }));

    assertThat(result.get()).isEqualTo(new RunOutcome.Completed(true));
    assertThat(result.interruptedAfterRun()).isTrue();
  }

  @Test
  void someoneElsesInterruptEndingTheWorkWithInterruptedExceptionIsRestored() throws Exception {
    BlockingWork work = new BlockingWork(OnInterrupt.RETHROW);
    CompletableFuture<Finished> finished = claimAndRun(runner(store), work);
    work.awaitStarted();

    work.thread.interrupt();

    Finished result = await(finished);
    assertThat(result.get())
        .isInstanceOfSatisfying(
            RunOutcome.Failed.class,
            failed -> {
              assertThat(failed.cause()).isInstanceOf(InterruptedException.class);
              assertThat(failed.released()).isTrue();
            });
    assertThat(result.interruptedAfterRun())
        .as("the runner caught the InterruptedException, so it must restore the flag")
        .isTrue();
  }

  @Test
  void interruptPendingWhenRunStartsIsRestoredEvenIfTheWorkSwallowsIt() throws Exception {
    BlockingWork work = new BlockingWork(OnInterrupt.SWALLOW);
    LeaseRunner<Lease> runner = runner(store);

    Finished result =
        await(
            onWorkThread(
                () -> {
                  Thread.currentThread().interrupt();
                  return runner.claimAndRun(KEY, OWNER, POLICY, work);
                }));

    assertThat(work.sawInterrupt).isTrue();
    assertThat(result.get()).isEqualTo(new RunOutcome.Completed(true));
    assertThat(result.interruptedAfterRun()).isTrue();
  }
}
