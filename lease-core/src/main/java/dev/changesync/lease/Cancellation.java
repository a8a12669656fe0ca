package dev.changesync.lease;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The signal a {@link LeaseRunner} gives work that must stop because its lease can no longer be
 * trusted. Long work checks it between units (between pages, between pull requests); the runner
 * also interrupts the work's thread.
 */
public final class Cancellation {

  private final AtomicReference<String> reason = new AtomicReference<>();

  /** Cancels with {@code why}; returns false when already cancelled (the first reason stays). */
  boolean cancel(String why) {
    return reason.compareAndSet(null, why);
  }

  public boolean isCancelled() {
    return reason.get() != null;
  }

  /** Why the work was cancelled, or empty while it may go on. */
  public Optional<String> reason() {
    return Optional.ofNullable(reason.get());
  }

  /** Throws {@link CancelledException} when cancelled; call it between units of work. */
  public void throwIfCancelled() {
    String why = reason.get();
    if (why != null) {
      throw new CancelledException(why);
    }
  }

  /** Thrown by {@link #throwIfCancelled()}. */
  public static final class CancelledException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CancelledException(String why) {
      super(why);
    }
  }
}
