package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.lease.WorkLeases;
import dev.changesync.lease.Cancellation;
import dev.changesync.lease.GuardedWrite;
import dev.changesync.lease.Lease;
import java.util.function.BooleanSupplier;
import org.jdbi.v3.core.Handle;

/**
 * One pass of a lane on one repository, as the lane's code sees it: the lease it runs under, the
 * signals that tell it to stop, and guarded writes.
 *
 * <p>Two signals stop a pass between units of work (pages, pull requests, hints): the lease
 * runner's {@link Cancellation} (the lease was lost or can no longer be trusted) and the worker's
 * forced shutdown (the grace period ran out). {@link #checkpoint()} throws for either.
 */
final class Pass {

  private final WorkLeases store;
  private final Lease lease;
  private final long repositoryId;
  private final Cancellation cancellation;
  private final BooleanSupplier forceStop;

  Pass(
      WorkLeases store,
      Lease lease,
      long repositoryId,
      Cancellation cancellation,
      BooleanSupplier forceStop) {
    this.store = requireNonNull(store, "store");
    this.lease = requireNonNull(lease, "lease");
    this.repositoryId = repositoryId;
    this.cancellation = requireNonNull(cancellation, "cancellation");
    this.forceStop = requireNonNull(forceStop, "forceStop");
  }

  Lease lease() {
    return lease;
  }

  long repositoryId() {
    return repositoryId;
  }

  /** True when the pass must stop at the next checkpoint. */
  boolean stopRequested() {
    return cancellation.isCancelled() || forceStop.getAsBoolean();
  }

  /** Throws when the pass must stop: the lease is no longer trusted, or the worker is stopping. */
  void checkpoint() {
    cancellation.throwIfCancelled();
    if (forceStop.getAsBoolean()) {
      throw new WorkerStoppingException();
    }
  }

  /**
   * A guarded write: {@code write} runs in one transaction that first checks this pass's lease is
   * still on record, and keeps it locked until commit.
   */
  <R> R write(GuardedWrite<Handle, R, RuntimeException> write) {
    return store.inLease(lease, write);
  }

  /** Thrown at a checkpoint when the worker's grace period for stopping ran out. */
  static final class WorkerStoppingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    WorkerStoppingException() {
      super("the worker is stopping: pass cut short");
    }
  }
}
