package dev.changesync.engine.github;

import dev.changesync.lease.testing.MutableClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;

/**
 * A {@link Sleeper} that never sleeps: it records each wait, and what {@code probe} said at that
 * moment (e.g. how many requests the fake had seen), then moves the clock on by the wait.
 */
final class RecordingSleeper implements Sleeper {

  record Wait(Duration duration, int probeBefore) {}

  private final MutableClock clock;
  private final IntSupplier probe;
  private final List<Wait> waits = new CopyOnWriteArrayList<>();
  private volatile Runnable onSleep = () -> {};

  RecordingSleeper(MutableClock clock, IntSupplier probe) {
    this.clock = clock;
    this.probe = probe;
  }

  /** Runs {@code action} at every sleep (after recording it). */
  RecordingSleeper onSleep(Runnable action) {
    this.onSleep = action;
    return this;
  }

  @Override
  public void sleep(Duration duration) {
    waits.add(new Wait(duration, probe.getAsInt()));
    onSleep.run();
    clock.advance(duration);
  }

  List<Wait> waits() {
    return List.copyOf(waits);
  }

  List<Duration> durations() {
    return waits.stream().map(Wait::duration).toList();
  }
}
