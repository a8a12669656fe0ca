package dev.changesync.lease;

import static java.util.Objects.requireNonNull;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Observes lease transitions (for logs, metrics, audit). Stores call listeners after the transition
 * is durable and outside their locks. Wrap a listener with {@link #safe} so a failing listener can
 * never break the core; stores do this themselves.
 */
public interface LeaseListener {

  /** A free lease was claimed. */
  default void claimed(Lease lease) {}

  /** A stale lease was claimed by {@code lease.owner()}, taking over {@code previous}. */
  default void reclaimed(Lease lease, Lease previous) {}

  /** The holder renewed its lease. */
  default void heartbeat(Lease lease) {}

  /** The holder of {@code lease} found it lost (heartbeat, release or guarded write refused). */
  default void lost(Lease lease, LossReason reason) {}

  /** The holder released its lease. */
  default void released(Lease lease) {}

  /** An operator released {@code lease} by hand; its token was bumped to fence the holder. */
  default void manuallyReleased(Lease lease, String actor) {}

  /** A recovery pass ran. */
  default void recovered(RecoveryReport report) {}

  LeaseListener NONE = new LeaseListener() {};

  /** A listener that logs and swallows whatever {@code delegate} throws. */
  static LeaseListener safe(LeaseListener delegate) {
    requireNonNull(delegate, "delegate");
    return delegate instanceof SafeLeaseListener ? delegate : new SafeLeaseListener(delegate);
  }
}

final class SafeLeaseListener implements LeaseListener {
  private static final Logger log = LoggerFactory.getLogger(SafeLeaseListener.class);
  private final LeaseListener delegate;

  SafeLeaseListener(LeaseListener delegate) {
    this.delegate = delegate;
  }

  private void guard(String event, Runnable call) {
    try {
      call.run();
    } catch (RuntimeException | LinkageError | AssertionError e) {
      log.warn("lease listener failed on {}; ignored", event, e);
    }
  }

  @Override
  public void claimed(Lease lease) {
    guard("claimed", () -> delegate.claimed(lease));
  }

  @Override
  public void reclaimed(Lease lease, Lease previous) {
    guard("reclaimed", () -> delegate.reclaimed(lease, previous));
  }

  @Override
  public void heartbeat(Lease lease) {
    guard("heartbeat", () -> delegate.heartbeat(lease));
  }

  @Override
  public void lost(Lease lease, LossReason reason) {
    guard("lost", () -> delegate.lost(lease, reason));
  }

  @Override
  public void released(Lease lease) {
    guard("released", () -> delegate.released(lease));
  }

  @Override
  public void manuallyReleased(Lease lease, String actor) {
    guard("manuallyReleased", () -> delegate.manuallyReleased(lease, actor));
  }

  @Override
  public void recovered(RecoveryReport report) {
    guard("recovered", () -> delegate.recovered(report));
  }
}
