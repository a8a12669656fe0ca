package dev.changesync.lease;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.changesync.lease.testing.LeaseStoreContract;
import dev.changesync.lease.testing.MutableClock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class InMemoryLeaseStoreTest extends LeaseStoreContract<Lease> {

  private ExecutorService threads;

  @Override
  protected LeaseStore<Lease> createStore(MutableClock clock, LeaseListener listener) {
    return new InMemoryLeaseStore(clock, listener);
  }

  @BeforeEach
  void startThreads() {
    threads = Executors.newCachedThreadPool();
  }

  @AfterEach
  void stopThreads() throws InterruptedException {
    threads.shutdownNow();
    assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void guardedWriteAndCompletionReceiveTheVerifiedLease() {
    Lease alice = claimGranted(KEY, ALICE, LONG);
    clock.advance(ofSeconds(1));
    Lease renewed = store.heartbeat(alice) instanceof HeartbeatResult.Renewed r ? r.lease() : null;
    AtomicReference<Lease> completedWith = new AtomicReference<>();

    // The holder writes with its older lease value; the store hands over what it verified.
    Lease verified = store.inLease(alice, writes -> writes);

    assertThat(verified).isEqualTo(renewed);
    assertThat(store.release(alice, completedWith::set)).isTrue();
    assertThat(completedWith).hasValue(renewed);
  }

  @Test
  void guardedWriteBlocksAConcurrentReclaimOfTheSameKeyUntilItEnds() throws Exception {
    Lease alice = claimGranted(KEY, ALICE, SHORT);
    clock.advance(ofSeconds(2)); // stale: a claim would reclaim it at once
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch finishWrite = new CountDownLatch(1);
    List<String> order = Collections.synchronizedList(new ArrayList<>());

    Future<String> write =
        threads.submit(
            () ->
                store.inLease(
                    alice,
                    writes -> {
                      writing.countDown();
                      assertThat(finishWrite.await(10, TimeUnit.SECONDS)).isTrue();
                      order.add("write finished");
                      return "written";
                    }));
    assertThat(writing.await(10, TimeUnit.SECONDS)).isTrue();
    AtomicReference<Thread> claimer = new AtomicReference<>();
    Future<ClaimResult> claim =
        threads.submit(
            () -> {
              claimer.set(Thread.currentThread());
              ClaimResult result = store.claim(KEY, BOB, LONG);
              order.add("claimed");
              return result;
            });
    awaitBlocked(claimer);
    // Another key is not held up by the write.
    assertThat(threads.submit(() -> store.claim(OTHER_KEY, CAROL, LONG)).get(10, TimeUnit.SECONDS))
        .isInstanceOf(ClaimResult.Granted.class);

    assertThat(claim).isNotDone();
    finishWrite.countDown();

    assertThat(write.get(10, TimeUnit.SECONDS)).isEqualTo("written");
    ClaimResult.Granted granted = granted(claim.get(10, TimeUnit.SECONDS));
    assertThat(granted.reclaimedFrom()).contains(alice);
    assertThat(order).containsExactly("write finished", "claimed");
  }

  /** Waits until {@code thread} is blocked on a monitor (the key's, held by the guarded write). */
  private static void awaitBlocked(AtomicReference<Thread> thread) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (thread.get() == null || thread.get().getState() != Thread.State.BLOCKED) {
      if (System.nanoTime() > deadline) {
        fail(
            "claimer never blocked; state "
                + (thread.get() == null ? "not started" : thread.get().getState()));
      }
      Thread.onSpinWait();
    }
  }

  @Test
  void tokensOfOneKeyAreNotAffectedByOtherKeys() {
    Lease first = claimGranted(KEY, ALICE, LONG);
    for (int i = 0; i < 5; i++) {
      store.release(claimGranted(OTHER_KEY, BOB, LONG));
    }
    store.release(first);

    assertThat(claimGranted(KEY, ALICE, LONG).token()).isEqualTo(first.token() + 1);
  }
}
