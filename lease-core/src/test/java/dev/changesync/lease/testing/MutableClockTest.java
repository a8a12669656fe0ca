package dev.changesync.lease.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class MutableClockTest {

  @Test
  void startsAtTheDefaultOrGivenInstantAndStaysThere() {
    assertThat(new MutableClock().instant()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
    MutableClock clock = new MutableClock(Instant.parse("2030-05-06T07:08:09.123456Z"));

    assertThat(clock.instant()).isEqualTo(Instant.parse("2030-05-06T07:08:09.123456Z"));
    assertThat(clock.instant()).isEqualTo(clock.instant());
    assertThat(clock.millis()).isEqualTo(clock.instant().toEpochMilli());
  }

  @Test
  void movesOnlyWhenToldForwardOrBack() {
    MutableClock clock = new MutableClock();

    assertThat(clock.advance(Duration.ofSeconds(90))).isEqualTo("2026-01-01T00:01:30Z");
    assertThat(clock.advance(Duration.ofNanos(-1))).isEqualTo("2026-01-01T00:01:29.999999999Z");
    clock.set(Instant.parse("2025-12-31T23:00:00Z"));
    assertThat(clock.instant()).isEqualTo("2025-12-31T23:00:00Z");
  }

  @Test
  void concurrentAdvancesAreNotLost() throws InterruptedException {
    MutableClock clock = new MutableClock();
    Thread[] threads = new Thread[4];
    for (int t = 0; t < threads.length; t++) {
      threads[t] =
          new Thread(
              () -> {
                for (int i = 0; i < 10_000; i++) {
                  clock.advance(Duration.ofNanos(1));
                }
              });
      threads[t].start();
    }
    for (Thread thread : threads) {
      thread.join(10_000);
    }

    assertThat(clock.instant()).isEqualTo(MutableClock.DEFAULT_START.plusNanos(40_000));
  }
}
