package dev.changesync.lease.testing;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import com.google.common.math.LongMath;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link ScheduledExecutorService} on virtual time, for tests. Nothing runs by itself: tasks run
 * on the thread that calls {@link #advance} or {@link #runDue}, in order of their due time (ties in
 * the order they were scheduled), and the virtual clock steps to each task's due time before it
 * runs. Tasks may be scheduled from any thread, including by running tasks; a task scheduled during
 * an {@code advance} runs in that same advance when it falls due before its end.
 *
 * <p>{@link #ticker()} reads the virtual time, so a component that takes a {@link Ticker} (the
 * lease runner's monotonic clock) sees exactly the time the test moved. When linked to a {@link
 * MutableClock}, every step of virtual time also moves that clock by the same amount, so store time
 * and monotonic time move together; the clock can still be set or advanced on its own to simulate a
 * wall-clock jump (or another process's time passing).
 *
 * <p>Supported: {@code schedule} (runnable and callable), {@code scheduleAtFixedRate}, {@code
 * scheduleWithFixedDelay}, {@code execute} and {@code submit} (due now: they run on the next {@link
 * #runDue} or {@link #advance}). {@code invokeAll} and {@code invokeAny} throw {@link
 * UnsupportedOperationException}. After {@link #shutdown()} new tasks are rejected, tasks already
 * scheduled still run when due, and periodic tasks stop repeating; {@link #shutdownNow()} cancels
 * and returns everything pending. {@link #awaitTermination} does not wait — no other thread runs
 * tasks — it reports whether the scheduler is terminated.
 *
 * <p>A task that throws completes its future exceptionally (as with {@code
 * ScheduledThreadPoolExecutor}); the exception is also kept in {@link #failures()} so tests can
 * notice it.
 */
public final class DeterministicScheduler implements ScheduledExecutorService {

  private final MutableClock linkedClock; // null when not linked
  private final Object lock = new Object();
  private final ReentrantLock driver = new ReentrantLock();
  private final List<Throwable> failures = new ArrayList<>(); // guarded by lock
  private final Ticker ticker =
      new Ticker() {
        @Override
        public long read() {
          return nanoTime();
        }
      };

  // Guarded by lock.
  private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();
  private long sequence;
  private boolean shutdown;
  private volatile long nowNanos;

  /** A scheduler at virtual time 0, linked to no wall clock. */
  public DeterministicScheduler() {
    this.linkedClock = null;
  }

  /** A scheduler at virtual time 0 that moves {@code linkedClock} along with its virtual time. */
  public DeterministicScheduler(MutableClock linkedClock) {
    this.linkedClock = requireNonNull(linkedClock, "linkedClock");
  }

  /** The virtual time in nanoseconds since this scheduler was created. */
  public long nanoTime() {
    return nowNanos;
  }

  /** The virtual time since this scheduler was created. */
  public Duration elapsed() {
    return Duration.ofNanos(nowNanos);
  }

  /** A ticker reading the virtual time. */
  public Ticker ticker() {
    return ticker;
  }

  /**
   * Moves virtual time forward by {@code duration}, step by step, running every task that falls due
   * on the way (including tasks scheduled meanwhile) at its due time. Returns how many tasks ran.
   */
  public int advance(Duration duration) {
    requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException("virtual time cannot go back, got " + duration);
    }
    driver.lock();
    try {
      long target = LongMath.saturatedAdd(nowNanos, duration.toNanos());
      int ran = 0;
      while (true) {
        Task<?> next;
        synchronized (lock) {
          next = queue.peek();
          if (next == null || next.dueNanos > target) {
            break;
          }
          queue.poll();
          moveTo(next.dueNanos);
        }
        next.run();
        ran++;
      }
      synchronized (lock) {
        moveTo(target);
      }
      return ran;
    } finally {
      driver.unlock();
    }
  }

  /** Runs every task due at the current virtual time, without moving it. Returns how many ran. */
  public int runDue() {
    return advance(Duration.ZERO);
  }

  /** How many tasks are waiting (not yet run, not cancelled). */
  public int pendingTasks() {
    synchronized (lock) {
      return queue.size();
    }
  }

  /** How long until the next pending task is due, or empty when none is pending. */
  public Optional<Duration> nextTaskDelay() {
    synchronized (lock) {
      Task<?> next = queue.peek();
      return next == null
          ? Optional.empty()
          : Optional.of(Duration.ofNanos(Math.max(0, next.dueNanos - nowNanos)));
    }
  }

  /** Every exception a task threw so far, in order. */
  public List<Throwable> failures() {
    synchronized (lock) {
      return List.copyOf(failures);
    }
  }

  /** Caller holds lock. */
  private void moveTo(long nanos) {
    if (nanos > nowNanos) {
      long delta = nanos - nowNanos;
      nowNanos = nanos;
      if (linkedClock != null) {
        linkedClock.advance(Duration.ofNanos(delta));
      }
    }
  }

  private <V> Task<V> enqueue(Callable<V> callable, long delay, long periodNanos, TimeUnit unit) {
    requireNonNull(callable, "task");
    requireNonNull(unit, "unit");
    synchronized (lock) {
      if (shutdown) {
        throw new RejectedExecutionException("scheduler is shut down");
      }
      long due = LongMath.saturatedAdd(nowNanos, Math.max(0, unit.toNanos(delay)));
      Task<V> task = new Task<>(callable, due, periodNanos, sequence++);
      queue.add(task);
      return task;
    }
  }

  private static Callable<Void> callable(Runnable command) {
    requireNonNull(command, "command");
    return () -> {
      command.run();
      return null;
    };
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    return enqueue(callable(command), delay, 0, unit);
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    return enqueue(callable, delay, 0, unit);
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    if (period <= 0) {
      throw new IllegalArgumentException("period must be positive, got " + period);
    }
    return enqueue(callable(command), initialDelay, unit.toNanos(period), unit);
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    if (delay <= 0) {
      throw new IllegalArgumentException("delay must be positive, got " + delay);
    }
    return enqueue(callable(command), initialDelay, -unit.toNanos(delay), unit);
  }

  /** Runs {@code command} at the current virtual time, on the next {@link #runDue} or advance. */
  @Override
  public void execute(Runnable command) {
    schedule(command, 0, TimeUnit.NANOSECONDS);
  }

  @Override
  public <T> Future<T> submit(Callable<T> task) {
    return schedule(task, 0, TimeUnit.NANOSECONDS);
  }

  @Override
  public <T> Future<T> submit(Runnable task, T result) {
    requireNonNull(task, "task");
    return schedule(
        () -> {
          task.run();
          return result;
        },
        0,
        TimeUnit.NANOSECONDS);
  }

  @Override
  public Future<?> submit(Runnable task) {
    return schedule(task, 0, TimeUnit.NANOSECONDS);
  }

  @Override
  public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) {
    throw new UnsupportedOperationException("invokeAll on a deterministic scheduler");
  }

  @Override
  public <T> List<Future<T>> invokeAll(
      Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit) {
    throw new UnsupportedOperationException("invokeAll on a deterministic scheduler");
  }

  @Override
  public <T> T invokeAny(Collection<? extends Callable<T>> tasks) {
    throw new UnsupportedOperationException("invokeAny on a deterministic scheduler");
  }

  @Override
  public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit) {
    throw new UnsupportedOperationException("invokeAny on a deterministic scheduler");
  }

  @Override
  public void shutdown() {
    synchronized (lock) {
      shutdown = true;
    }
  }

  @Override
  public List<Runnable> shutdownNow() {
    List<Runnable> pending;
    synchronized (lock) {
      shutdown = true;
      pending = new ArrayList<>(queue);
      queue.clear();
    }
    for (Runnable task : pending) {
      ((Task<?>) task).result.cancel(false);
    }
    return pending;
  }

  @Override
  public boolean isShutdown() {
    synchronized (lock) {
      return shutdown;
    }
  }

  @Override
  public boolean isTerminated() {
    synchronized (lock) {
      return shutdown && queue.isEmpty() && !driver.isLocked();
    }
  }

  /** Does not wait: returns {@link #isTerminated()}. */
  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return isTerminated();
  }

  @Override
  public String toString() {
    synchronized (lock) {
      return "DeterministicScheduler[at "
          + Duration.ofNanos(nowNanos)
          + ", "
          + queue.size()
          + " pending"
          + (shutdown ? ", shut down" : "")
          + "]";
    }
  }

  /** One scheduled task; its outcome lives in a {@link CompletableFuture}. */
  private final class Task<V> implements RunnableScheduledFuture<V> {
    private final Callable<V> callable;

    /** 0 one-shot; > 0 fixed rate; < 0 fixed delay. */
    private final long periodNanos;

    private final CompletableFuture<V> result = new CompletableFuture<>();
    private long dueNanos; // guarded by the scheduler's lock
    private long order; // guarded by the scheduler's lock

    Task(Callable<V> callable, long dueNanos, long periodNanos, long order) {
      this.callable = callable;
      this.dueNanos = dueNanos;
      this.periodNanos = periodNanos;
      this.order = order;
    }

    @Override
    public void run() {
      if (result.isDone()) {
        return;
      }
      V value;
      try {
        value = callable.call();
      } catch (Throwable t) {
        synchronized (lock) {
          failures.add(t);
        }
        result.completeExceptionally(t);
        return;
      }
      if (!isPeriodic()) {
        result.complete(value);
        return;
      }
      synchronized (lock) {
        if (shutdown || result.isDone()) {
          result.cancel(false);
          return;
        }
        dueNanos =
            periodNanos > 0
                ? LongMath.saturatedAdd(dueNanos, periodNanos)
                : LongMath.saturatedAdd(nowNanos, -periodNanos);
        order = sequence++;
        queue.add(this);
      }
    }

    @Override
    public boolean isPeriodic() {
      return periodNanos != 0;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = result.cancel(mayInterruptIfRunning);
      synchronized (lock) {
        queue.remove(this);
      }
      return cancelled;
    }

    @Override
    public boolean isCancelled() {
      return result.isCancelled();
    }

    @Override
    public boolean isDone() {
      return result.isDone();
    }

    /** Blocks until the task ran: only useful when another thread drives the scheduler. */
    @Override
    public V get() throws InterruptedException, ExecutionException {
      return result.get();
    }

    @Override
    public V get(long timeout, TimeUnit unit)
        throws InterruptedException, ExecutionException, TimeoutException {
      return result.get(timeout, unit);
    }

    @Override
    public long getDelay(TimeUnit unit) {
      long due;
      synchronized (lock) {
        due = dueNanos;
      }
      return unit.convert(due - nowNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed other) {
      if (other == this) {
        return 0;
      }
      if (other instanceof Task<?> task) {
        int byDue = Long.compare(dueNanos, task.dueNanos);
        return byDue != 0 ? byDue : Long.compare(order, task.order);
      }
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public String toString() {
      return "Task[due at " + Duration.ofNanos(dueNanos) + ", " + result + "]";
    }
  }
}
