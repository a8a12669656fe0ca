package dev.changesync.lease;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/** What a heartbeat did. */
public sealed interface HeartbeatResult {

  /** The lease is still ours and was renewed; use the new value from now on. */
  record Renewed(Lease lease) implements HeartbeatResult {
    public Renewed {
      requireNonNull(lease, "lease");
    }
  }

  /**
   * The lease is no longer ours: the work under it must stop, and nothing it writes may land.
   *
   * @param reason why, for logs and outcomes
   * @param current the lease as the store now shows it (another owner's), or empty when free
   */
  record Lost(LossReason reason, Optional<Lease> current) implements HeartbeatResult {
    public Lost {
      requireNonNull(reason, "reason");
      requireNonNull(current, "current");
    }

    public String describe() {
      return reason.describe(current);
    }
  }
}
