package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import java.time.Duration;
import java.util.TreeSet;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Where a worker's idle loops wait for work: up to the poll interval, or less when something says
 * that work may have become claimable — at once ({@link #now}) or at a known instant ({@link
 * #after}: a webhook's debounce ending, a dead peer's grace passing, a lease going stale). Every
 * wake-up is a hint; the loops still poll.
 *
 * <p>A wake-up wakes every loop waiting at that moment, and a loop that starts waiting after a
 * wake-up it has not seen returns at once, so no wake-up is lost between one pick and the next
 * wait. Times are read from a {@link Ticker} (monotonic).
 */
final class WakeUps {

  private final Ticker ticker;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private long generation; // guarded by lock: incremented by every wake-up that came due
  /** Timed wake-ups this close after an earlier pending one ride on it. */
  static final Duration COALESCE = Duration.ofMillis(100);

  private final TreeSet<Long> due = new TreeSet<>(); // guarded by lock: ticker times
  private boolean closed; // guarded by lock

  WakeUps(Ticker ticker) {
    this.ticker = requireNonNull(ticker, "ticker");
  }

  /** What a loop saw before it looked for work; pass it to {@link #await}. */
  long mark() {
    lock.lock();
    try {
      fireIfDue();
      return generation;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until a wake-up newer than {@code mark} is due, {@code timeout} passes or {@link #close}
   * is called. Returns true when woken (or closed), false when the timeout passed.
   */
  boolean await(long mark, Duration timeout) throws InterruptedException {
    long deadline = ticker.read() + timeout.toNanos();
    lock.lock();
    try {
      while (true) {
        fireIfDue();
        if (closed || generation != mark) {
          return true;
        }
        long now = ticker.read();
        long wait = (due.isEmpty() ? deadline : Math.min(deadline, due.first())) - now;
        if (deadline - now <= 0) {
          return false;
        }
        if (wait > 0) {
          changed.awaitNanos(wait);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** Wakes every waiting loop now. */
  void now() {
    lock.lock();
    try {
      generation++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Wakes every loop waiting at {@code delay} from now; zero or negative means now. */
  void after(Duration delay) {
    if (delay.isNegative() || delay.isZero()) {
      now();
      return;
    }
    long at = ticker.read() + delay.toNanos();
    lock.lock();
    try {
      Long next = due.ceiling(at);
      if (next == null || next - at > COALESCE.toNanos()) {
        due.add(at);
        changed.signalAll(); // waiters shorten their wait
      }
    } finally {
      lock.unlock();
    }
  }

  /** Wakes every loop, now and whenever it waits again. */
  void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Turns a timed wake-up whose instant has come into a wake-up. Called holding the lock. */
  private void fireIfDue() {
    long now = ticker.read();
    boolean fired = false;
    while (!due.isEmpty() && now - due.first() >= 0) {
      due.pollFirst();
      fired = true;
    }
    if (fired) {
      generation++;
      changed.signalAll();
    }
  }

  /** How many timed wake-ups are pending; for tests. */
  int pending() {
    lock.lock();
    try {
      return due.size();
    } finally {
      lock.unlock();
    }
  }
}
