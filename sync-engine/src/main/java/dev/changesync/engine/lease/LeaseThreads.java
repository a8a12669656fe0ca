package dev.changesync.engine.lease;

import static java.util.Objects.requireNonNull;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.common.util.concurrent.ThreadFactoryBuilder;
import dev.changesync.lease.LeaseRunner;
import dev.changesync.lease.LeaseHolder;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The threads behind a process's {@link LeaseRunner}s, split so that a heartbeat stuck in the
 * database can never hold back the self-distrust deadline.
 *
 * <ul>
 *   <li>One timer thread, {@code changesync-heartbeat-timer}, only schedules heartbeats and checks
 *       deadlines: it never waits on I/O, so a run is cancelled at stale-after whatever its
 *       heartbeats are doing.
 *   <li>Heartbeat calls run on {@code changesync-heartbeat-N} threads. Heartbeats are batched:
 *       every lease the process's runs hold (per heartbeat interval) is renewed by one {@link
 *       LeaseHolder#heartbeatAll} call — one statement — per interval, and the next call is
 *       scheduled when the previous one returns, so one thread does it.
 * </ul>
 *
 * <p>A hung heartbeat still occupies its thread until its call returns: give the store a heartbeat
 * connection pool with a statement and socket timeout below stale-after (changesync's own pools do),
 * so that the call fails and the next heartbeat tries again on a fresh connection.
 */
public final class LeaseThreads implements AutoCloseable {

  private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(5);

  private final ScheduledExecutorService timer;
  private final ExecutorService heartbeats;

  private LeaseThreads() {
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            new ThreadFactoryBuilder()
                .setNameFormat("changesync-heartbeat-timer")
                .setDaemon(true)
                .build());
    this.heartbeats =
        Executors.newCachedThreadPool(
            new ThreadFactoryBuilder()
                .setNameFormat("changesync-heartbeat-%d")
                .setDaemon(true)
                .build());
  }

  /** New threads (started lazily, with the first lease that needs them). */
  public static LeaseThreads create() {
    return new LeaseThreads();
  }

  /**
   * A runner on {@code store} whose timing runs on the timer and whose batched heartbeat calls run
   * on the pool.
   */
  public <W> LeaseRunner<W> runner(LeaseHolder<W> store) {
    requireNonNull(store, "store");
    return LeaseRunner.builder(store, timer)
        .heartbeatExecutor(heartbeats)
        .batchHeartbeats(true)
        .build();
  }

  /** Stops both executors, waiting a little for calls in flight; keeps the interrupt flag. */
  @Override
  public void close() {
    MoreExecutors.shutdownAndAwaitTermination(timer, SHUTDOWN_WAIT);
    MoreExecutors.shutdownAndAwaitTermination(heartbeats, SHUTDOWN_WAIT);
  }
}
