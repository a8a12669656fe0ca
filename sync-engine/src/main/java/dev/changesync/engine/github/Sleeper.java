package dev.changesync.engine.github;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How the client waits (backoff, rate-limit resets). Tests pass one that records the duration and
 * moves a test clock instead of sleeping.
 */
@FunctionalInterface
public interface Sleeper {

  /**
   * Waits for {@code duration}.
   *
   * @throws InterruptedException when the waiting thread is interrupted (the caller is being
   *     cancelled)
   */
  void sleep(Duration duration) throws InterruptedException;

  /** Really sleeps the current thread; interruptible. */
  static Sleeper system() {
    return duration -> {
      if (!duration.isNegative() && !duration.isZero()) {
        TimeUnit.NANOSECONDS.sleep(saturatedNanos(duration));
      } else if (Thread.interrupted()) {
        throw new InterruptedException();
      }
    };
  }

  private static long saturatedNanos(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }
}
