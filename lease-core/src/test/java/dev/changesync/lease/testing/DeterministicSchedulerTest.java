package dev.changesync.lease.testing;

import static java.time.Duration.ofMillis;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DeterministicSchedulerTest {

  private final MutableClock clock = new MutableClock();
  private final DeterministicScheduler scheduler = new DeterministicScheduler(clock);
  private final List<String> ran = new ArrayList<>();

  @Test
  void nothingRunsUntilTimeIsAdvancedAndThenInDueOrder() {
    scheduler.schedule(() -> ran.add("b at 2s"), 2, TimeUnit.SECONDS);
    scheduler.schedule(() -> ran.add("a at 1s"), 1_000, TimeUnit.MILLISECONDS);
    scheduler.schedule(() -> ran.add("c at 2s, scheduled later"), 2, TimeUnit.SECONDS);

    assertThat(ran).isEmpty();
    assertThat(scheduler.advance(ofMillis(999))).isZero();
    assertThat(scheduler.advance(ofSeconds(5))).isEqualTo(3);

    assertThat(ran).containsExactly("a at 1s", "b at 2s", "c at 2s, scheduled later");
    assertThat(scheduler.elapsed()).isEqualTo(Duration.ofMillis(5_999));
  }

  @Test
  void tasksSeeTheirOwnDueTimeOnTickerAndLinkedClock() {
    List<Long> tickerReads = new ArrayList<>();
    List<Duration> clockReads = new ArrayList<>();
    Runnable read =
        () -> {
          tickerReads.add(scheduler.ticker().read());
          clockReads.add(Duration.between(MutableClock.DEFAULT_START, clock.instant()));
        };
    scheduler.schedule(read, 1, TimeUnit.SECONDS);
    scheduler.schedule(read, 3, TimeUnit.SECONDS);

    scheduler.advance(ofSeconds(10));

    assertThat(tickerReads).containsExactly(1_000_000_000L, 3_000_000_000L);
    assertThat(clockReads).containsExactly(ofSeconds(1), ofSeconds(3));
    assertThat(clock.instant()).isEqualTo(MutableClock.DEFAULT_START.plusSeconds(10));
  }

  @Test
  void linkedClockCanStillJumpOnItsOwn() {
    clock.advance(Duration.ofHours(1));

    scheduler.advance(ofSeconds(1));

    assertThat(clock.instant()).isEqualTo(MutableClock.DEFAULT_START.plusSeconds(3_601));
    assertThat(scheduler.nanoTime()).isEqualTo(1_000_000_000L);
  }

  @Test
  void tasksScheduledByTasksRunInTheSameAdvanceWhenDue() {
    scheduler.schedule(
        () -> {
          ran.add("first");
          scheduler.schedule(() -> ran.add("second, 1s later"), 1, TimeUnit.SECONDS);
          scheduler.execute(() -> ran.add("executed now"));
        },
        1,
        TimeUnit.SECONDS);

    scheduler.advance(ofSeconds(2));

    assertThat(ran).containsExactly("first", "executed now", "second, 1s later");
  }

  @Test
  void executeRunsOnTheNextRunDue() {
    scheduler.execute(() -> ran.add("executed"));
    assertThat(ran).isEmpty();

    assertThat(scheduler.runDue()).isEqualTo(1);

    assertThat(ran).containsExactly("executed");
    assertThat(scheduler.nanoTime()).isZero();
  }

  @Test
  void futuresReportResultDelayAndCancellation() throws Exception {
    ScheduledFuture<String> value = scheduler.schedule(() -> "value", 2, TimeUnit.SECONDS);
    ScheduledFuture<?> cancelled =
        scheduler.schedule(() -> ran.add("cancelled"), 1, TimeUnit.SECONDS);

    assertThat(value.getDelay(TimeUnit.MILLISECONDS)).isEqualTo(2_000);
    assertThat(scheduler.pendingTasks()).isEqualTo(2);
    assertThat(scheduler.nextTaskDelay()).contains(ofSeconds(1));
    assertThat(cancelled.cancel(false)).isTrue();
    assertThat(scheduler.pendingTasks()).isEqualTo(1);
    scheduler.advance(ofMillis(500));
    assertThat(value.getDelay(TimeUnit.MILLISECONDS)).isEqualTo(1_500);
    assertThat(value.isDone()).isFalse();

    scheduler.advance(ofSeconds(2));

    assertThat(value.isDone()).isTrue();
    assertThat(value.get()).isEqualTo("value");
    assertThat(cancelled.isCancelled()).isTrue();
    assertThatExceptionOfType(CancellationException.class).isThrownBy(cancelled::get);
    assertThat(ran).isEmpty();
    assertThat(scheduler.nextTaskDelay()).isEmpty();
  }

  @Test
  void failingTaskCompletesItsFutureExceptionallyAndIsRecorded() {
    IllegalStateException boom = new IllegalStateException("boom");
    Future<?> future =
        scheduler.schedule(
            () -> {
              throw boom;
            },
            0,
            TimeUnit.SECONDS);
    scheduler.schedule(() -> ran.add("still runs"), 1, TimeUnit.SECONDS);

    scheduler.advance(ofSeconds(1));

    assertThatThrownBy(future::get).isInstanceOf(ExecutionException.class).hasCause(boom);
    assertThat(scheduler.failures()).containsExactly(boom);
    assertThat(ran).containsExactly("still runs");
  }

  @Test
  void periodicTasksRepeatAtFixedRateOrWithFixedDelay() {
    List<Long> rate = new ArrayList<>();
    List<Long> delay = new ArrayList<>();
    ScheduledFuture<?> atRate =
        scheduler.scheduleAtFixedRate(() -> rate.add(scheduler.nanoTime()), 1, 2, TimeUnit.SECONDS);
    scheduler.scheduleWithFixedDelay(() -> delay.add(scheduler.nanoTime()), 0, 3, TimeUnit.SECONDS);

    scheduler.advance(ofSeconds(6));
    atRate.cancel(false);
    scheduler.advance(ofSeconds(10));

    assertThat(rate).containsExactly(1_000_000_000L, 3_000_000_000L, 5_000_000_000L);
    assertThat(delay).hasSize(6).startsWith(0L, 3_000_000_000L, 6_000_000_000L);
  }

  @Test
  void shutdownRejectsNewTasksButRunsScheduledOnes() {
    scheduler.schedule(() -> ran.add("scheduled before"), 1, TimeUnit.SECONDS);

    scheduler.shutdown();

    assertThat(scheduler.isShutdown()).isTrue();
    assertThat(scheduler.isTerminated()).isFalse();
    assertThatExceptionOfType(RejectedExecutionException.class)
        .isThrownBy(() -> scheduler.schedule(() -> ran.add("after"), 1, TimeUnit.SECONDS));
    scheduler.advance(ofSeconds(1));
    assertThat(ran).containsExactly("scheduled before");
    assertThat(scheduler.isTerminated()).isTrue();
    assertThat(scheduler.awaitTermination(1, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void shutdownNowCancelsAndReturnsPendingTasks() {
    ScheduledFuture<?> pending = scheduler.schedule(() -> ran.add("never"), 1, TimeUnit.SECONDS);

    assertThat(scheduler.shutdownNow()).containsExactly((Runnable) pending);

    assertThat(pending.isCancelled()).isTrue();
    scheduler.advance(ofSeconds(5));
    assertThat(ran).isEmpty();
    assertThat(scheduler.isTerminated()).isTrue();
  }

  @Test
  void virtualTimeCannotGoBack() {
    assertThatExceptionOfType(IllegalArgumentException.class)
        .isThrownBy(() -> scheduler.advance(Duration.ofNanos(-1)));
  }

  @Test
  void tasksMayBeScheduledFromOtherThreads() throws Exception {
    Thread other =
        new Thread(
            () -> scheduler.schedule(() -> ran.add("from another thread"), 1, TimeUnit.SECONDS));
    other.start();
    other.join(10_000);

    scheduler.advance(ofSeconds(1));

    assertThat(ran).containsExactly("from another thread");
  }
}
