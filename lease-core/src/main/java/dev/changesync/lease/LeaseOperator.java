package dev.changesync.lease;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The operator's side of a {@link LeaseStore}: looking at leases, freeing one by hand, and the
 * recovery pass a worker runs at start. Each method is one atomic step on the store's clock.
 */
public interface LeaseOperator {
  /**
   * Frees {@code key} by hand whoever holds it and bumps its token, so that the previous holder, if
   * still alive, is fenced off. Returns the lease that was released, or empty when it was FREE.
   */
  Optional<Lease> releaseManually(LeaseKey key, String actor);

  /**
   * The startup pass a worker runs before taking work: frees every STALE lease and every lease held
   * by another incarnation of {@code self.workerName()} (stores that can tell a dead owner from a
   * live one also free leases of dead owners). Leases of {@code self} are left alone.
   */
  RecoveryReport recover(OwnerId self);

  /** The lease on {@code key}, or empty when it is FREE. */
  Optional<Lease> find(LeaseKey key);

  /** Every owned (HELD or STALE) lease, ordered by resource then lane. */
  List<Lease> list();

  /** The store's "now": the instant every state decision of this store is made at. */
  Instant now();
}
