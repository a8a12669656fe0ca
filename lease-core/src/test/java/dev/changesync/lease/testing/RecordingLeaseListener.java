package dev.changesync.lease.testing;

import static java.util.Objects.requireNonNull;

import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseListener;
import dev.changesync.lease.LossReason;
import dev.changesync.lease.RecoveryReport;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link LeaseListener} that records every event it receives, in order. Thread-safe. It can be
 * told to throw after recording each event, to check that a failing listener never breaks a store.
 */
public final class RecordingLeaseListener implements LeaseListener {

  /** One recorded event. */
  public sealed interface Event
      permits Claimed, Reclaimed, Heartbeat, Lost, Released, ManuallyReleased, Recovered {}

  public record Claimed(Lease lease) implements Event {}

  public record Reclaimed(Lease lease, Lease previous) implements Event {}

  public record Heartbeat(Lease lease) implements Event {}

  public record Lost(Lease lease, LossReason reason) implements Event {}

  public record Released(Lease lease) implements Event {}

  public record ManuallyReleased(Lease lease, String actor) implements Event {}

  public record Recovered(RecoveryReport report) implements Event {}

  private final List<Event> events = new ArrayList<>(); // guarded by itself
  private volatile boolean failing;

  /** Every event so far, oldest first. */
  public List<Event> events() {
    synchronized (events) {
      return List.copyOf(events);
    }
  }

  /** The events of one type so far, oldest first. */
  public <E extends Event> List<E> events(Class<E> type) {
    requireNonNull(type, "type");
    return events().stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** Forgets the events recorded so far. */
  public void clear() {
    synchronized (events) {
      events.clear();
    }
  }

  /** From now on, throw an {@link IllegalStateException} from every call (after recording it). */
  public void failOnEveryCall(boolean failing) {
    this.failing = failing;
  }

  private void record(Event event) {
    synchronized (events) {
      events.add(event);
    }
    if (failing) {
      throw new IllegalStateException("listener failing on purpose: " + event);
    }
  }

  @Override
  public void claimed(Lease lease) {
    record(new Claimed(lease));
  }

  @Override
  public void reclaimed(Lease lease, Lease previous) {
    record(new Reclaimed(lease, previous));
  }

  @Override
  public void heartbeat(Lease lease) {
    record(new Heartbeat(lease));
  }

  @Override
  public void lost(Lease lease, LossReason reason) {
    record(new Lost(lease, reason));
  }

  @Override
  public void released(Lease lease) {
    record(new Released(lease));
  }

  @Override
  public void manuallyReleased(Lease lease, String actor) {
    record(new ManuallyReleased(lease, actor));
  }

  @Override
  public void recovered(RecoveryReport report) {
    record(new Recovered(report));
  }
}
