package dev.changesync.lease;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import com.google.common.util.concurrent.MoreExecutors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs work under a lease: heartbeats while the work runs, cancels the work when the lease is lost
 * or can no longer be trusted, and releases the lease when the work ends.
 *
 * <p><b>Heartbeats.</b> Every {@code heartbeatEvery} of the holder's policy, measured from the end
 * of the previous heartbeat, on the given scheduler; the store call itself runs on the heartbeat
 * executor (by default the scheduler's thread) so that timing tasks stay short.
 *
 * <p><b>Self-distrust.</b> If a heartbeat reports the lease lost, the work is cancelled at once. If
 * no heartbeat has <em>succeeded</em> for {@code staleAfter} — the database is unreachable, say —
 * the work is cancelled too, because by then another worker may legitimately reclaim the lease.
 * That deadline runs on a monotonic {@link Ticker}, measured from the <em>start</em> of the last
 * successful heartbeat call (or of the claim), so a slow heartbeat never extends trust. Give the
 * runner a {@linkplain Builder#heartbeatExecutor heartbeat executor} of its own whenever heartbeats
 * do I/O: a heartbeat call that hangs on the scheduler's threads holds back the deadline checks
 * queued behind it, and with them the cancellation at stale-after.
 *
 * <p><b>Cancellation</b> sets the {@link Cancellation} the work checks and interrupts the work's
 * thread. The runner then waits for the work to return: Java cannot stop a thread, which is why
 * every write the work makes must be a guarded write.
 *
 * <p><b>Release.</b> Whether the work completed, failed or was cancelled, the lease is released
 * with the work's completion updates ({@link LeaseWork#onFailure} on failure or cancellation). If
 * the completion updates themselves fail, the lease is released without them.
 *
 * <p><b>Interrupts.</b> An interrupt the runner caused is cleared before {@code run} returns. An
 * interrupt from anyone else is kept for the caller: one pending when {@code run} was called, one
 * still pending when the work returns, and one the work let out as an {@link InterruptedException}
 * (the runner catches that exception, so it restores the flag). An interrupt that the work itself
 * swallowed mid-way cannot be seen, and so cannot be restored; nor can a foreign interrupt that
 * arrived together with the runner's own.
 *
 * @param <W> the store's write context
 */
public final class LeaseRunner<W> {

  private static final Logger log = LoggerFactory.getLogger(LeaseRunner.class);

  private final LeaseHolder<W> store;
  private final ScheduledExecutorService scheduler;
  private final Executor heartbeatExecutor;
  private final Ticker ticker;
  private final boolean batchHeartbeats;
  private final Map<Long, Batch> batches = new ConcurrentHashMap<>(); // by heartbeat interval

  private LeaseRunner(Builder<W> builder) {
    this.store = builder.store;
    this.scheduler = builder.scheduler;
    this.heartbeatExecutor = builder.heartbeatExecutor;
    this.ticker = builder.ticker;
    this.batchHeartbeats = builder.batchHeartbeats;
  }

  public static <W> Builder<W> builder(LeaseHolder<W> store, ScheduledExecutorService scheduler) {
    return new Builder<>(store, scheduler);
  }

  /** Builds a {@link LeaseRunner}. */
  public static final class Builder<W> {
    private final LeaseHolder<W> store;
    private final ScheduledExecutorService scheduler;
    private Executor heartbeatExecutor = MoreExecutors.directExecutor();
    private Ticker ticker = Ticker.systemTicker();
    private boolean batchHeartbeats;

    private Builder(LeaseHolder<W> store, ScheduledExecutorService scheduler) {
      this.store = requireNonNull(store, "store");
      this.scheduler = requireNonNull(scheduler, "scheduler");
    }

    /** Where heartbeat store calls run; by default on the scheduler's own thread. */
    public Builder<W> heartbeatExecutor(Executor heartbeatExecutor) {
      this.heartbeatExecutor = requireNonNull(heartbeatExecutor, "heartbeatExecutor");
      return this;
    }

    /**
     * The monotonic clock of the self-distrust deadline; {@link Ticker#systemTicker()} by default.
     */
    public Builder<W> ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Renew all the leases this runner's runs hold with one {@link LeaseStore#heartbeatAll} call
     * per heartbeat interval, instead of one heartbeat call per lease (off by default). Runs whose
     * policies share a heartbeat interval share a batch: every interval, measured from the end of
     * the batch's previous call, it renews every lease of the batch at once, and each result goes
     * to its own run (a lease lost to another owner cancels its run only). A run joins at the
     * batch's next tick, so its first heartbeat comes at most one interval after it started. The
     * self-distrust deadline stays per run, measured from the start of the last successful batch
     * call that renewed its lease.
     */
    public Builder<W> batchHeartbeats(boolean batchHeartbeats) {
      this.batchHeartbeats = batchHeartbeats;
      return this;
    }

    public LeaseRunner<W> build() {
      return new LeaseRunner<>(this);
    }
  }

  /**
   * Claims {@code key} and, when granted, runs {@code work} under the new lease. Trust starts at
   * the start of the claim call. Returns empty, having run nothing, when the lease is not granted
   * (held by another owner, or {@link ClaimResult.Unavailable}).
   */
  public Optional<RunOutcome> claimAndRun(
      LeaseKey key, OwnerId owner, LeasePolicy policy, LeaseWork<W> work) {
    requireNonNull(work, "work");
    long claimStarted = ticker.read();
    ClaimResult result = store.claim(key, owner, policy);
    if (result instanceof ClaimResult.Granted granted) {
      return Optional.of(new Run(granted.lease(), claimStarted, work).execute());
    }
    return Optional.empty();
  }

  /**
   * Runs {@code work} under {@code lease}, which the caller has just been granted. Trust is
   * measured from now; use {@link #claimAndRun} to measure it from the claim itself.
   */
  public RunOutcome run(Lease lease, LeaseWork<W> work) {
    return run(lease, trustStart(), work);
  }

  /**
   * A reading of the runner's clock to take just before a claim call made outside the runner
   * (claim-next, say), and to pass to {@link #run(Lease, long, LeaseWork)} with the lease it
   * granted, so that trust starts when the claim started: a claim that took long never extends
   * it.
   */
  public long trustStart() {
    return ticker.read();
  }

  /**
   * Runs {@code work} under {@code lease}, which a claim that started at {@code trustStart} (a
   * {@link #trustStart()} reading) has just granted. If stale-after has already passed since then,
   * the work does not run and the outcome is {@link RunOutcome.Lost}.
   */
  public RunOutcome run(Lease lease, long trustStart, LeaseWork<W> work) {
    requireNonNull(lease, "lease");
    requireNonNull(work, "work");
    return new Run(lease, trustStart, work).execute();
  }

  /** The state of one run; its fields are shared between the work thread and the scheduler. */
  private final class Run {
    private final LeaseWork<W> work;
    private final Cancellation cancellation = new Cancellation();
    private final long staleAfterNanos;
    private final long heartbeatEveryNanos;
    private final Thread workThread = Thread.currentThread();
    private final Object lock = new Object();

    // Guarded by lock.
    private Lease lease;
    private long trustedSince;
    private boolean finished;
    private int heartbeatsInFlight; // heartbeat calls for this run that have not returned
    private boolean interruptedByRunner;
    private LossReason lossReason;
    private ScheduledFuture<?> nextHeartbeat;
    private ScheduledFuture<?> nextDeadlineCheck;
    private Batch batch; // null: heartbeats of its own

    Run(Lease lease, long trustedSince, LeaseWork<W> work) {
      this.lease = lease;
      this.trustedSince = trustedSince;
      this.work = work;
      this.staleAfterNanos = lease.policy().staleAfter().toNanos();
      this.heartbeatEveryNanos = lease.policy().heartbeatEvery().toNanos();
    }

    RunOutcome execute() {
      // An interrupt pending now is the caller's, whatever the work does with it.
      boolean interruptedOnEntry = Thread.currentThread().isInterrupted();
      synchronized (lock) {
        long untrustedIn = staleAfterNanos - (ticker.read() - trustedSince);
        if (untrustedIn <= 0) {
          // The claim itself took stale-after: someone may already have reclaimed the lease.
          cancel(LossReason.NO_HEARTBEAT, noHeartbeatDetail());
        } else {
          if (batchHeartbeats) {
            batch = batches.computeIfAbsent(heartbeatEveryNanos, Batch::new);
          }
          scheduleHeartbeat();
          scheduleDeadlineCheck(untrustedIn);
        }
      }
      Completion<W> completion = null;
      Throwable failure = null;
      if (!cancellation.isCancelled()) {
        try {
          completion = work.run(lease(), cancellation);
        } catch (Throwable t) {
          failure = t;
        }
      }
      boolean clearOurInterrupt;
      Lease finalLease;
      LossReason lost;
      synchronized (lock) {
        finished = true;
        cancelQuietly(nextHeartbeat);
        cancelQuietly(nextDeadlineCheck);
        leaveBatch();
        clearOurInterrupt = interruptedByRunner;
        finalLease = lease;
        lost = lossReason;
      }
      // Our own interrupt was for the work only. Anyone else's is kept for the caller; it is
      // cleared during the release so the release itself is not aborted by it. An
      // InterruptedException the work threw consumed the flag: we caught it, so we restore it.
      boolean interrupted = Thread.interrupted();
      interrupted |= awaitHeartbeatsInFlight();
      boolean keepInterrupt =
          interruptedOnEntry
              || (!clearOurInterrupt && (interrupted || failure instanceof InterruptedException));
      try {
        if (cancellation.isCancelled()) {
          String detail = cancellation.reason().orElseThrow();
          Throwable cause = failure != null ? failure : LeaseLostException.of(finalLease, detail);
          boolean released = release(finalLease, completionForFailure(cause));
          return new RunOutcome.Lost(lost, detail, released);
        }
        if (failure != null) {
          if (failure instanceof Error error && !(failure instanceof AssertionError)) {
            release(finalLease, Completion.none());
            throw error;
          }
          boolean released = release(finalLease, completionForFailure(failure));
          return new RunOutcome.Failed(failure, released);
        }
        return new RunOutcome.Completed(release(finalLease, completion));
      } finally {
        if (keepInterrupt) {
          Thread.currentThread().interrupt();
        }
      }
    }

    private Lease lease() {
      synchronized (lock) {
        return lease;
      }
    }

    /**
     * Waits, at most one heartbeat interval, for heartbeat calls of this run that are on their way,
     * so that none reaches the store after the release: it would be refused and read as a loss.
     * True when the wait was interrupted.
     */
    private boolean awaitHeartbeatsInFlight() {
      synchronized (lock) {
        long deadline = System.nanoTime() + heartbeatEveryNanos;
        while (heartbeatsInFlight > 0) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          try {
            TimeUnit.NANOSECONDS.timedWait(lock, left);
          } catch (InterruptedException e) {
            return true;
          }
        }
        return false;
      }
    }

    private Completion<W> completionForFailure(Throwable cause) {
      try {
        return work.onFailure(cause);
      } catch (RuntimeException e) {
        log.warn("onFailure of work under {} threw; releasing without updates", lease().key(), e);
        return Completion.none();
      }
    }

    private boolean release(Lease toRelease, Completion<W> completion) {
      try {
        return store.release(toRelease, completion == null ? Completion.none() : completion);
      } catch (LeaseLostException e) {
        return false;
      } catch (RuntimeException e) {
        if (completion == null) {
          log.warn("release of {} failed: {}", toRelease.key(), causes(e));
          log.debug("release of {} failed", toRelease.key(), e);
          return false;
        }
        log.warn(
            "release of {} with completion updates failed; releasing without them",
            toRelease.key(),
            e);
        try {
          return store.release(toRelease, Completion.none());
        } catch (RuntimeException again) {
          log.warn("release of {} failed: {}", toRelease.key(), causes(again));
          log.debug("release of {} failed", toRelease.key(), again);
          return false;
        }
      }
    }

    // --- heartbeats ---

    /** Caller holds lock. */
    private void scheduleHeartbeat() {
      if (finished || cancellation.isCancelled()) {
        return;
      }
      if (batch != null) {
        batch.join(this);
        return;
      }
      try {
        nextHeartbeat =
            scheduler.schedule(this::dispatchHeartbeat, heartbeatEveryNanos, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        log.warn("heartbeat scheduler rejected the heartbeat of {}", lease.key(), e);
      }
    }

    private void dispatchHeartbeat() {
      try {
        heartbeatExecutor.execute(this::heartbeat);
      } catch (RejectedExecutionException e) {
        log.warn("heartbeat executor rejected the heartbeat of {}", lease().key(), e);
        synchronized (lock) {
          scheduleHeartbeat();
        }
      }
    }

    private void heartbeat() {
      Lease current = leaseToRenew();
      if (current == null) {
        return;
      }
      long started = ticker.read();
      HeartbeatResult result = null;
      try {
        result = store.heartbeat(current);
      } catch (RuntimeException e) {
        // Expected while the store is unreachable: one line (the stack at debug level).
        log.warn("heartbeat of {} failed; will retry: {}", current.key(), causes(e));
        log.debug("heartbeat of {} failed", current.key(), e);
      } finally {
        heartbeatDone(started, result);
        synchronized (lock) {
          scheduleHeartbeat();
        }
      }
    }

    /**
     * The lease to heartbeat, or null when the run is over. A non-null answer counts a heartbeat
     * in flight until {@link #heartbeatDone}.
     */
    private Lease leaseToRenew() {
      synchronized (lock) {
        if (finished || cancellation.isCancelled()) {
          return null;
        }
        heartbeatsInFlight++;
        return lease;
      }
    }

    /**
     * Takes the result of a heartbeat call that started at {@code started}; null when the call
     * failed.
     */
    private void heartbeatDone(long started, HeartbeatResult result) {
      synchronized (lock) {
        heartbeatsInFlight--;
        lock.notifyAll();
        if (result instanceof HeartbeatResult.Renewed renewed) {
          if (!finished) {
            lease = renewed.lease();
          }
          // Trust runs from the start of the call: a slow heartbeat does not extend it.
          trustedSince = Math.max(trustedSince, started);
        } else if (result instanceof HeartbeatResult.Lost lostResult) {
          cancel(lostResult.reason(), lostResult.describe());
        }
      }
    }

    /** Caller holds lock. */
    private void leaveBatch() {
      if (batch != null) {
        batch.leave(this);
      }
    }

    // --- self-distrust deadline ---

    /** Caller holds lock. */
    private void scheduleDeadlineCheck(long delayNanos) {
      if (finished || cancellation.isCancelled()) {
        return;
      }
      try {
        nextDeadlineCheck =
            scheduler.schedule(this::checkDeadline, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // Without a deadline check nothing would ever stop the work once heartbeats stop: a run
        // that cannot watch its lease must not trust it.
        log.warn("scheduler rejected the deadline check of {}", lease.key(), e);
        cancel(
            LossReason.NO_HEARTBEAT,
            "lease can no longer be trusted: the scheduler rejected the deadline check");
      }
    }

    /** Caller holds lock. */
    private String noHeartbeatDetail() {
      return "lease lost: no heartbeat succeeded for " + lease.policy().staleAfter();
    }

    private void checkDeadline() {
      synchronized (lock) {
        if (finished || cancellation.isCancelled()) {
          return;
        }
        long untrustedIn = staleAfterNanos - (ticker.read() - trustedSince);
        if (untrustedIn <= 0) {
          cancel(LossReason.NO_HEARTBEAT, noHeartbeatDetail());
        } else {
          scheduleDeadlineCheck(untrustedIn);
        }
      }
    }

    /** Caller holds lock. */
    private void cancel(LossReason reason, String detail) {
      if (finished || !cancellation.cancel(detail)) {
        return;
      }
      lossReason = reason;
      log.warn("cancelling work under {} held by {}: {}", lease.key(), lease.owner(), detail);
      cancelQuietly(nextHeartbeat);
      cancelQuietly(nextDeadlineCheck);
      leaveBatch();
      interruptedByRunner = true;
      workThread.interrupt();
    }

    private void cancelQuietly(ScheduledFuture<?> future) {
      if (future != null) {
        future.cancel(false);
      }
    }
  }

  /**
   * The runs whose heartbeats share one {@link LeaseStore#heartbeatAll} call every {@code
   * everyNanos}. The tick runs while the batch has members: scheduled on the scheduler, the call
   * on the heartbeat executor, the next tick scheduled when the call returns.
   */
  private final class Batch {
    private final long everyNanos;
    private final Set<Run> runs = new LinkedHashSet<>(); // guarded by this
    private boolean ticking; // guarded by this: a tick is scheduled or its call is running

    Batch(long everyNanos) {
      this.everyNanos = everyNanos;
    }

    synchronized void join(Run run) {
      runs.add(run);
      if (!ticking) {
        ticking = true;
        scheduleTick();
      }
    }

    synchronized void leave(Run run) {
      runs.remove(run);
    }

    /** Caller holds this. */
    private void scheduleTick() {
      try {
        scheduler.schedule(this::dispatch, everyNanos, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // The scheduler is shutting down; the deadline checks (also rejected) cancel the runs.
        log.warn("heartbeat scheduler rejected a batched heartbeat", e);
        ticking = false;
      }
    }

    private void dispatch() {
      try {
        heartbeatExecutor.execute(this::beat);
      } catch (RejectedExecutionException e) {
        log.warn("heartbeat executor rejected a batched heartbeat", e);
        tickDone();
      }
    }

    private void beat() {
      List<Run> members;
      synchronized (this) {
        members = new ArrayList<>(runs);
      }
      // One key can have two runs here at once: a run whose lease was released by hand (it learns
      // so from this very heartbeat) and the run that claimed the key again since. heartbeatAll
      // takes each key once, so such a pair goes out in two calls: each round holds a key once.
      List<Map<LeaseKey, Run>> runRounds = new ArrayList<>();
      List<Map<LeaseKey, Lease>> leaseRounds = new ArrayList<>();
      for (Run run : members) {
        Lease lease = run.leaseToRenew();
        if (lease == null) {
          continue;
        }
        int round = 0;
        while (round < leaseRounds.size() && leaseRounds.get(round).containsKey(lease.key())) {
          round++;
        }
        if (round == leaseRounds.size()) {
          runRounds.add(new LinkedHashMap<>());
          leaseRounds.add(new LinkedHashMap<>());
        }
        runRounds.get(round).put(lease.key(), run);
        leaseRounds.get(round).put(lease.key(), lease);
      }
      int done = 0;
      try {
        for (; done < leaseRounds.size(); done++) {
          beat(
              new ArrayList<>(runRounds.get(done).values()),
              new ArrayList<>(leaseRounds.get(done).values()));
        }
      } finally {
        // Only when a round threw an Error: the runs of later rounds are told their heartbeat failed.
        for (int i = done + 1; i < runRounds.size(); i++) {
          for (Run run : runRounds.get(i).values()) {
            run.heartbeatDone(ticker.read(), null);
          }
        }
        tickDone();
      }
    }

    /** One heartbeatAll call for {@code leases}, of different keys; each result to its run. */
    private void beat(List<Run> beating, List<Lease> leases) {
      long started = ticker.read();
      List<HeartbeatResult> results = null;
      try {
        results = store.heartbeatAll(leases);
        if (results.size() != leases.size()) {
          log.warn(
              "heartbeat of {} leases returned {} results; ignoring them",
              leases.size(),
              results.size());
          results = null;
        }
      } catch (RuntimeException e) {
        log.warn("heartbeat of {} lease(s) failed; will retry", leases.size(), e);
      } finally {
        for (int i = 0; i < beating.size(); i++) {
          beating.get(i).heartbeatDone(started, results == null ? null : results.get(i));
        }
      }
    }

    private synchronized void tickDone() {
      if (runs.isEmpty()) {
        ticking = false;
      } else {
        scheduleTick();
      }
    }
  }

  /** {@code t}'s cause chain on one line: {@code A: message <- B: message}. */
  static String causes(Throwable t) {
    StringBuilder out = new StringBuilder();
    String previous = null;
    int depth = 0;
    for (Throwable c = t; c != null && depth < 6; c = c.getCause() == c ? null : c.getCause()) {
      String message = c.getMessage() == null ? "" : c.getMessage().strip().replaceAll("\\s+", " ");
      if (previous != null && !message.isEmpty() && previous.contains(message)) {
        continue;
      }
      if (out.length() > 0) {
        out.append(" <- ");
      }
      out.append(c.getClass().getSimpleName());
      if (!message.isEmpty()) {
        out.append(": ").append(message);
      }
      previous = message;
      depth++;
    }
    return out.toString();
  }
}
