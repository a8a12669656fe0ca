package dev.changesync.engine.service;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many bytes of webhook bodies may be held in memory at once, across all requests.
 *
 * <p>A delivery's signature can only be checked at the end of its body, so intake must keep the
 * bytes it has read until then; without a bound, a few dozen unauthenticated 24 MB posts exhaust the
 * heap. Each request holds a {@link Reservation} that it grows before it keeps more bytes; when the
 * budget cannot cover the growth, the request is refused (503) instead of kept.
 *
 * <p>The last {@link #smallHeadroomBytes()} of the budget are kept for small deliveries — those
 * whose reservation stays at or below {@link #SMALL_DELIVERY_BYTES} (GitHub's {@code pull_request}
 * payloads are tens of kilobytes) — so that large bodies, signed or not, cannot crowd out the
 * deliveries that matter most.
 */
public final class WebhookBudget {

  /** A delivery whose body stays at or below this size may use the small deliveries' headroom. */
  public static final long SMALL_DELIVERY_BYTES = 1024 * 1024;

  private static final long MB = 1024 * 1024;

  private final long capacityBytes;
  private final long smallHeadroomBytes;
  private final AtomicLong usedBytes = new AtomicLong();

  /**
   * @param capacityBytes the most bytes held at once; at least {@code smallHeadroomBytes} + {@value
   *     WebhookIntake#MAX_BODY_BYTES}, so one body of the largest size accepted always fits alone
   * @param smallHeadroomBytes the part only small deliveries may use
   */
  public WebhookBudget(long capacityBytes, long smallHeadroomBytes) {
    if (smallHeadroomBytes < SMALL_DELIVERY_BYTES) {
      throw new IllegalArgumentException(
          "smallHeadroomBytes must be at least " + SMALL_DELIVERY_BYTES + ": " + smallHeadroomBytes);
    }
    if (capacityBytes < smallHeadroomBytes + WebhookIntake.MAX_BODY_BYTES) {
      throw new IllegalArgumentException(
          "capacityBytes must be at least smallHeadroomBytes + "
              + WebhookIntake.MAX_BODY_BYTES
              + ": "
              + capacityBytes);
    }
    this.capacityBytes = capacityBytes;
    this.smallHeadroomBytes = smallHeadroomBytes;
  }

  /**
   * The budget for a heap of {@code maxHeapBytes}: a quarter of it, between 33 MB (one largest body
   * plus 8 MB of headroom) and 256 MB; 8 MB of it kept for small deliveries. With {@code -Xmx256m}
   * that is 64 MB: two 24 MB bodies at once, and small deliveries beside them.
   */
  public static WebhookBudget forMaxHeap(long maxHeapBytes) {
    long headroom = 8 * MB;
    long floor = WebhookIntake.MAX_BODY_BYTES + headroom;
    long capacity = Math.max(floor, Math.min(256 * MB, maxHeapBytes / 4));
    return new WebhookBudget(capacity, headroom);
  }

  /** The budget for this JVM's maximum heap. */
  public static WebhookBudget forThisJvm() {
    return forMaxHeap(Runtime.getRuntime().maxMemory());
  }

  public long capacityBytes() {
    return capacityBytes;
  }

  public long smallHeadroomBytes() {
    return smallHeadroomBytes;
  }

  /** Bytes reserved right now, by all requests. */
  public long usedBytes() {
    return usedBytes.get();
  }

  /** A reservation of {@code bytes}, or empty when the budget cannot cover it now. */
  public Optional<Reservation> tryReserve(long bytes) {
    Reservation reservation = new Reservation();
    return reservation.tryGrowTo(bytes) ? Optional.of(reservation) : Optional.empty();
  }

  private boolean tryTake(long delta, long totalAfter) {
    long limit = totalAfter <= SMALL_DELIVERY_BYTES ? capacityBytes : capacityBytes - smallHeadroomBytes;
    while (true) {
      long used = usedBytes.get();
      if (used + delta > limit) {
        return false;
      }
      if (usedBytes.compareAndSet(used, used + delta)) {
        return true;
      }
    }
  }

  /**
   * One request's share of the budget. Not thread-safe: one request thread grows it and closes it
   * (in a {@code finally}); closing gives every byte back, and a second close does nothing.
   */
  public final class Reservation implements AutoCloseable {

    private long bytes;
    private boolean closed;

    private Reservation() {}

    /** Bytes this reservation holds. */
    public long bytes() {
      return bytes;
    }

    /**
     * Grows the reservation to {@code total} bytes (nothing when it already holds as many). False,
     * and nothing taken, when the budget cannot cover the growth now.
     */
    public boolean tryGrowTo(long total) {
      if (closed) {
        throw new IllegalStateException("reservation already released");
      }
      if (total < 0) {
        throw new IllegalArgumentException("total must not be negative: " + total);
      }
      if (total <= bytes) {
        return true;
      }
      if (!tryTake(total - bytes, total)) {
        return false;
      }
      bytes = total;
      return true;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        usedBytes.addAndGet(-bytes);
        bytes = 0;
      }
    }
  }
}
