package dev.changesync.lease;

import static java.util.Objects.requireNonNull;

/**
 * A guarded write (or a release with completion updates) found that its lease has moved on: the
 * owner or the token on record is no longer the writer's. Nothing the writer attempted in that
 * transaction was written.
 */
public final class LeaseLostException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient LeaseKey key;
  private final transient OwnerId owner;
  private final long token;

  public LeaseLostException(LeaseKey key, OwnerId owner, long token, String message) {
    super(message);
    this.key = requireNonNull(key, "key");
    this.owner = requireNonNull(owner, "owner");
    this.token = token;
  }

  /** For a lease whose holder found it gone. */
  public static LeaseLostException of(Lease lease, String why) {
    return new LeaseLostException(
        lease.key(),
        lease.owner(),
        lease.token(),
        "lease " + lease.key() + " token " + lease.token() + " of " + lease.owner() + " lost: " + why);
  }

  public LeaseKey key() {
    return key;
  }

  public OwnerId owner() {
    return owner;
  }

  public long token() {
    return token;
  }
}
