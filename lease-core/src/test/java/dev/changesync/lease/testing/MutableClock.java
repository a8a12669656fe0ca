package dev.changesync.lease.testing;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A wall clock that tests move by hand. Thread-safe. It only moves when told to — forward, or
 * backward to simulate a clock that jumps — so store time in a test is fully determined.
 *
 * <p>Starts at {@link #DEFAULT_START} unless given another instant.
 */
public final class MutableClock implements InstantSource {

  /** 2026-01-01T00:00:00Z: a whole second, so microsecond truncation never changes it. */
  public static final Instant DEFAULT_START = Instant.parse("2026-01-01T00:00:00Z");

  private final AtomicReference<Instant> now;

  /** A clock at {@link #DEFAULT_START}. */
  public MutableClock() {
    this(DEFAULT_START);
  }

  /** A clock at {@code start}. */
  public MutableClock(Instant start) {
    this.now = new AtomicReference<>(requireNonNull(start, "start"));
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  /** Moves the clock to {@code instant}, forward or backward. */
  public void set(Instant instant) {
    now.set(requireNonNull(instant, "instant"));
  }

  /** Moves the clock by {@code duration} (negative moves it back) and returns the new instant. */
  public Instant advance(Duration duration) {
    requireNonNull(duration, "duration");
    return now.updateAndGet(t -> t.plus(duration));
  }

  @Override
  public String toString() {
    return "MutableClock[" + now.get() + "]";
  }
}
