package dev.changesync.lease;

import java.util.Optional;

/** Why an owner no longer holds a lease. */
public enum LossReason {
  /** Another owner holds it now (it was reclaimed while stale). */
  RECLAIMED,
  /** It is free: released by hand, freed by a recovery pass, or released by this owner earlier. */
  FREED,
  /** The owner itself stopped trusting it: no heartbeat succeeded for stale-after. */
  NO_HEARTBEAT;

  /** Classifies a lost lease from what the store shows now. */
  public static LossReason of(Optional<Lease> current) {
    return current.isPresent() ? RECLAIMED : FREED;
  }

  String describe(Optional<Lease> current) {
    return switch (this) {
      case RECLAIMED ->
          current
              .map(l -> "lease lost: now held by " + l.owner() + " with token " + l.token())
              .orElse("lease lost: reclaimed");
      case FREED -> "lease lost: it was released or recovered";
      case NO_HEARTBEAT -> "lease lost: no heartbeat succeeded within stale-after";
    };
  }
}
