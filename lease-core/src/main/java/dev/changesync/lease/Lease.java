package dev.changesync.lease;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * An owned lease as a store recorded it: who holds it, its fencing token, and the holder's timing.
 * Immutable; a heartbeat yields a new value. A lease value is also the holder's proof of ownership:
 * heartbeat, release and guarded writes succeed only while the store still shows this owner and this
 * token.
 *
 * @param key what the lease is held on
 * @param owner the holder
 * @param token the fencing token, strictly greater than every token issued before for this key
 * @param claimedAt when this owner claimed it (store time)
 * @param heartbeatAt the last successful heartbeat (store time); the claim counts as one
 * @param expiresAt when the lease expires unless renewed (store time)
 * @param policy the timing the holder declared when it claimed
 */
public record Lease(
    LeaseKey key,
    OwnerId owner,
    long token,
    Instant claimedAt,
    Instant heartbeatAt,
    Instant expiresAt,
    LeasePolicy policy) {

  public Lease {
    requireNonNull(key, "key");
    requireNonNull(owner, "owner");
    requireNonNull(claimedAt, "claimedAt");
    requireNonNull(heartbeatAt, "heartbeatAt");
    requireNonNull(expiresAt, "expiresAt");
    requireNonNull(policy, "policy");
    if (token <= 0) {
      throw new IllegalArgumentException("token must be positive, got " + token);
    }
  }

  /**
   * The state at {@code now}: HELD while {@code expiresAt > now} and {@code heartbeatAt > now −
   * staleAfter} (the holder's window), else STALE. An owned lease is never FREE.
   */
  public LeaseState stateAt(Instant now) {
    requireNonNull(now, "now");
    boolean unexpired = expiresAt.isAfter(now);
    boolean fresh = heartbeatAt.isAfter(now.minus(policy.staleAfter()));
    return unexpired && fresh ? LeaseState.HELD : LeaseState.STALE;
  }

  /** The first instant at which this lease is no longer HELD, absent another heartbeat. */
  public Instant staleAt() {
    Instant byHeartbeat = heartbeatAt.plus(policy.staleAfter());
    return byHeartbeat.isBefore(expiresAt) ? byHeartbeat : expiresAt;
  }

  /** True when {@code other} is this same ownership (same key, owner and token). */
  public boolean sameOwnership(Lease other) {
    return key.equals(other.key) && owner.equals(other.owner) && token == other.token;
  }
}
