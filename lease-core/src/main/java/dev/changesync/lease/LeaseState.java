package dev.changesync.lease;

/**
 * The state of a lease at one instant, judged with the holder's own policy.
 *
 * <ul>
 *   <li>{@link #FREE} — no owner.
 *   <li>{@link #HELD} — an owner, {@code expiresAt > t} and {@code heartbeatAt > t − staleAfter}.
 *   <li>{@link #STALE} — an owner, but not HELD: the lease may be reclaimed by anyone.
 * </ul>
 */
public enum LeaseState {
  FREE,
  HELD,
  STALE;

  /** True when a claim at this state succeeds. */
  public boolean isClaimable() {
    return this != HELD;
  }
}
