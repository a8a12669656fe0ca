package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Observes a worker's passes (for metrics and logs). Called on the pass's own thread, outside any
 * transaction; the worker wraps listeners with {@link #safe} so that a failing listener can never
 * break a pass or the loop.
 */
public interface SyncListener {

  /** A pass of {@code kind} on repository {@code repositoryId} is about to run under its lease. */
  default void passStarted(WorkKind kind, long repositoryId) {}

  /** A pass ended (completed, failed, or cancelled because its lease was lost). */
  default void passFinished(PassResult result) {}

  /** An iteration of the worker loop failed outside any pass (the database is down, say). */
  default void loopFailed(Throwable error) {}

  SyncListener NONE = new SyncListener() {};

  /** A listener that logs and swallows whatever {@code delegate} throws. */
  static SyncListener safe(SyncListener delegate) {
    requireNonNull(delegate, "delegate");
    return delegate instanceof SafeSyncListener ? delegate : new SafeSyncListener(delegate);
  }
}

final class SafeSyncListener implements SyncListener {
  private static final Logger log = LoggerFactory.getLogger(SafeSyncListener.class);
  private final SyncListener delegate;

  SafeSyncListener(SyncListener delegate) {
    this.delegate = delegate;
  }

  private void guard(String event, Runnable call) {
    try {
      call.run();
    } catch (RuntimeException | LinkageError | AssertionError e) {
      log.warn("sync listener failed on {}; ignored", event, e);
    }
  }

  @Override
  public void passStarted(WorkKind kind, long repositoryId) {
    guard("passStarted", () -> delegate.passStarted(kind, repositoryId));
  }

  @Override
  public void passFinished(PassResult result) {
    guard("passFinished", () -> delegate.passFinished(result));
  }

  @Override
  public void loopFailed(Throwable error) {
    guard("loopFailed", () -> delegate.loopFailed(error));
  }
}
