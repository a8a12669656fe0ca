package dev.changesync.lease.testing;

import static java.util.Objects.requireNonNull;

import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.Completion;
import dev.changesync.lease.GuardedWrite;
import dev.changesync.lease.HeartbeatResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.LeaseStore;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.RecoveryReport;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A {@link LeaseStore} that forwards every call to another one. Tests override the calls they want
 * to disturb — a heartbeat that throws, a claim that takes a while — and keep the rest real.
 *
 * @param <W> the delegate's write context
 */
public class ForwardingLeaseStore<W> implements LeaseStore<W> {

  private final LeaseStore<W> delegate;

  public ForwardingLeaseStore(LeaseStore<W> delegate) {
    this.delegate = requireNonNull(delegate, "delegate");
  }

  /** The store calls are forwarded to. */
  protected final LeaseStore<W> delegate() {
    return delegate;
  }

  @Override
  public ClaimResult claim(LeaseKey key, OwnerId owner, LeasePolicy policy) {
    return delegate.claim(key, owner, policy);
  }

  @Override
  public HeartbeatResult heartbeat(Lease lease) {
    return delegate.heartbeat(lease);
  }

  @Override
  public boolean release(Lease lease, Completion<W> completion) {
    return delegate.release(lease, completion);
  }

  @Override
  public <R, X extends Exception> R inLease(Lease lease, GuardedWrite<W, R, X> write) throws X {
    return delegate.inLease(lease, write);
  }

  @Override
  public Optional<Lease> releaseManually(LeaseKey key, String actor) {
    return delegate.releaseManually(key, actor);
  }

  @Override
  public RecoveryReport recover(OwnerId self) {
    return delegate.recover(self);
  }

  @Override
  public Optional<Lease> find(LeaseKey key) {
    return delegate.find(key);
  }

  @Override
  public List<Lease> list() {
    return delegate.list();
  }

  @Override
  public Instant now() {
    return delegate.now();
  }
}
