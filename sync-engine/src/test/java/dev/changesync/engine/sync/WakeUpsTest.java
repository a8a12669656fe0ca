package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.base.Ticker;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WakeUpsTest {

  /** A ticker the test moves by hand. */
  private static final class FakeTicker extends Ticker {
    final AtomicLong nanos = new AtomicLong();

    @Override
    public long read() {
      return nanos.get();
    }

    void advance(Duration d) {
      nanos.addAndGet(d.toNanos());
    }
  }

  private final FakeTicker ticker = new FakeTicker();
  private final WakeUps wakeUps = new WakeUps(ticker);

  @Test
  void aWakeUpWakesAWaitingLoop() throws Exception {
    WakeUps real = new WakeUps(Ticker.systemTicker());
    long mark = real.mark();
    CompletableFuture<Boolean> woken =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return real.await(mark, Duration.ofMinutes(5));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    real.now();
    assertThat(woken.get(1, TimeUnit.MINUTES)).isTrue();
  }

  @Test
  void aWakeUpBetweenPickAndWaitIsNotLost() throws Exception {
    long mark = wakeUps.mark();
    wakeUps.now(); // while the loop was looking for work
    assertThat(wakeUps.await(mark, Duration.ofMinutes(5))).isTrue();
    assertThat(wakeUps.await(wakeUps.mark(), Duration.ZERO)).as("seen, so not again").isFalse();
  }

  @Test
  void timedWakeUpsComeDueOnTheTicker() throws Exception {
    long mark = wakeUps.mark();
    wakeUps.after(Duration.ofSeconds(15));
    wakeUps.after(Duration.ofSeconds(15).minus(WakeUps.COALESCE)); // rides on the first
    wakeUps.after(Duration.ofSeconds(20));
    assertThat(wakeUps.pending()).isEqualTo(2);

    ticker.advance(Duration.ofSeconds(15).minusNanos(1));
    assertThat(wakeUps.mark()).isEqualTo(mark);
    ticker.advance(Duration.ofNanos(1));
    long afterFirst = wakeUps.mark();
    assertThat(afterFirst).isNotEqualTo(mark);
    assertThat(wakeUps.await(mark, Duration.ofMinutes(5))).isTrue();

    ticker.advance(Duration.ofSeconds(5));
    assertThat(wakeUps.await(afterFirst, Duration.ofMinutes(5))).isTrue();
    assertThat(wakeUps.pending()).isZero();
  }

  @Test
  void closingWakesEveryLoopForGood() throws Exception {
    wakeUps.close();
    assertThat(wakeUps.await(wakeUps.mark(), Duration.ofMinutes(5))).isTrue();
  }
}
