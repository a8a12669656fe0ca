package dev.changesync.http;

import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseListener;
import dev.changesync.lease.LossReason;
import dev.changesync.lease.RecoveryReport;
import java.util.List;

/** Several lease listeners as one, each guarded so that one failing cannot starve the others. */
final class LeaseListeners implements LeaseListener {

  private final List<LeaseListener> listeners;

  private LeaseListeners(List<LeaseListener> listeners) {
    this.listeners = listeners;
  }

  static LeaseListener of(LeaseListener... listeners) {
    return new LeaseListeners(List.of(listeners).stream().map(LeaseListener::safe).toList());
  }

  @Override
  public void claimed(Lease lease) {
    listeners.forEach(l -> l.claimed(lease));
  }

  @Override
  public void reclaimed(Lease lease, Lease previous) {
    listeners.forEach(l -> l.reclaimed(lease, previous));
  }

  @Override
  public void heartbeat(Lease lease) {
    listeners.forEach(l -> l.heartbeat(lease));
  }

  @Override
  public void lost(Lease lease, LossReason reason) {
    listeners.forEach(l -> l.lost(lease, reason));
  }

  @Override
  public void released(Lease lease) {
    listeners.forEach(l -> l.released(lease));
  }

  @Override
  public void manuallyReleased(Lease lease, String actor) {
    listeners.forEach(l -> l.manuallyReleased(lease, actor));
  }

  @Override
  public void recovered(RecoveryReport report) {
    listeners.forEach(l -> l.recovered(report));
  }
}
