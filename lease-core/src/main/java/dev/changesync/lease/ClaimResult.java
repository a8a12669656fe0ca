package dev.changesync.lease;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/** What a claim did. Losing the race is a normal result, not an exception. */
public sealed interface ClaimResult {

  /**
   * The claim succeeded.
   *
   * @param lease the new lease, with a token greater than every earlier one for the key
   * @param reclaimedFrom the stale lease this claim took over, or empty when the key was FREE
   */
  record Granted(Lease lease, Optional<Lease> reclaimedFrom) implements ClaimResult {
    public Granted {
      requireNonNull(lease, "lease");
      requireNonNull(reclaimedFrom, "reclaimedFrom");
    }

    public boolean isReclaim() {
      return reclaimedFrom.isPresent();
    }
  }

  /**
   * Someone holds a fresh lease; nothing changed.
   *
   * @param current the holder's lease as the store saw it
   */
  record Held(Lease current) implements ClaimResult {
    public Held {
      requireNonNull(current, "current");
    }
  }

  /**
   * The store is not claiming for this owner right now, and nothing changed: try again later. The
   * PostgreSQL store answers this while the claimer's liveness lock is being taken again after its
   * connection broke, so that no lease records a liveness key that nobody holds.
   *
   * @param reason why, for logs
   */
  record Unavailable(String reason) implements ClaimResult {
    public Unavailable {
      requireNonNull(reason, "reason");
    }
  }

  /** The granted lease, or empty when the claim was not granted. */
  default Optional<Lease> granted() {
    return this instanceof Granted granted ? Optional.of(granted.lease()) : Optional.empty();
  }
}
