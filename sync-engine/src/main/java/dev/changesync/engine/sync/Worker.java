package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.common.util.concurrent.ThreadFactoryBuilder;
import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.github.GitHubException;
import dev.changesync.engine.lease.LeaseThreads;
import dev.changesync.engine.lease.LivenessSession;
import dev.changesync.engine.lease.WorkerLeases;
import dev.changesync.engine.lease.WorkerRegistry;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.WorkSignal;
import dev.changesync.lease.Cancellation;
import dev.changesync.lease.Completion;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseRunner;
import dev.changesync.lease.LeaseWork;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.RecoveryReport;
import dev.changesync.lease.RunOutcome;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jdbi.v3.core.Handle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sync worker: picks (repository, lane) work whose lease it can claim and runs it under that
 * lease (SPEC §3 "Worker loop").
 *
 * <p><b>Lifecycle.</b> {@link #start()} registers the worker in the {@code worker} table (host,
 * pid, version, liveness key), runs the lease recovery pass, and starts {@link
 * SyncSettings#workerThreads()} loops ({@code changesync-worker-1}, ...) that each poll for work,
 * run at most one pass at a time, and wait up to {@link SyncSettings#pollEvery()} when there was
 * nothing to do. Idle loops are woken sooner ({@link WakeUps}) when work may have become
 * claimable: a {@link WorkSignal} (a fetch request, a webhook hint after its debounce, a pass
 * ended, a lease released by hand or recovered), a peer's liveness lock gone (after the store's
 * grace), or a lease of another worker about to go stale. A maintenance thread records that the
 * worker is alive, looks for the next stale-at, and prunes the lease event log. {@link #stop(Duration)} stops claiming, lets running passes finish within the grace
 * period, then cancels them (each pass stops at its next checkpoint and is interrupted); every
 * pass releases its lease when it ends, and the worker is marked stopped.
 *
 * <p><b>Work picking</b> ({@link #runOnce()}) tries, in order, a requested fetch, a refresh, a
 * backfill pass and a periodic fetch — every fourth pick starting with the kind granted longest
 * ago ({@link PickOrder}), so no backlog starves another kind — each with one {@code claimNext}
 * per tier of its index-ordered candidate queries ({@link WorkPicker}); the first lease granted is run,
 * synchronously on the calling thread. Heartbeats and self-distrust come from a {@link LeaseRunner} on the worker's
 * {@link LeaseThreads} (a timer that never does I/O, so a hung heartbeat cannot hold back the
 * stale-after deadline, and a thread per heartbeat in flight); the work's completion
 * (finished-at, backoff reset, or last error, failure count and exponential retry-after) lands
 * with the release.
 *
 * <p><b>Time.</b> The lanes take "now" from the same authority as the lease store: database time
 * by default, or the clock given to {@link Builder#clock} — which must then be the clock the store
 * was built with. Pass durations and the backfill's max runtime are measured on {@link
 * Builder#ticker} (monotonic; {@link Ticker#systemTicker()} by default).
 */
public final class Worker implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Worker.class);

  /** How often a running worker records that it is alive. */
  static final Duration TOUCH_EVERY = Duration.ofSeconds(15);

  /** How often a running worker prunes the lease event log. */
  static final Duration PRUNE_EVERY = Duration.ofHours(1);

  /**
   * How long after a wake-up's instant the loops look for work: a peer's lease is reclaimable
   * once the liveness grace has passed on the database's clock, a stale one once stale-after has.
   */
  static final Duration WAKE_MARGIN = Duration.ofMillis(50);

  /** How long a forced stop waits for cancelled passes to return. */
  static final Duration FORCED_STOP_WAIT = Duration.ofSeconds(10);

  private enum State {
    NEW,
    RUNNING,
    STOPPED
  }

  private final WorkerLeases store;
  private final SyncSettings settings;
  private final OwnerId owner;
  private final LivenessSession liveness; // null: liveness off
  private final SyncListener listener;
  private final Runnable housekeeping;
  private final GitHub github;
  private final String version;
  private final Ticker ticker;
  private final WorkerRegistry registry;
  private final LeaseThreads leaseThreads;
  private final LeaseRunner<Handle> runner;
  private final WorkPicking picking;
  private final SyncState state;
  private final FetchLane fetch;
  private final RefreshLane refresh;
  private final BackfillLane backfill;
  private final CredentialBudgets budgets;

  private final Object lifecycle = new Object();
  private State lifecycleState = State.NEW; // guarded by lifecycle
  private ExecutorService loops; // guarded by lifecycle
  private ScheduledExecutorService maintenance; // guarded by lifecycle
  private volatile boolean stopping;
  private volatile boolean forceStop;
  private final WakeUps wakeUps;
  private final List<LivenessSession.Subscription> subscriptions = new ArrayList<>();

  private Worker(Builder b) {
    this.store = b.store;
    this.settings = b.settings;
    this.liveness = b.liveness;
    this.owner = b.owner != null ? b.owner : b.liveness != null ? b.liveness.owner() : defaultOwner();
    if (liveness != null && !liveness.owner().equals(owner)) {
      throw new IllegalArgumentException(
          "owner " + owner + " differs from the liveness session's owner " + liveness.owner());
    }
    this.listener = SyncListener.safe(b.listener);
    this.housekeeping = b.housekeeping;
    this.version = b.version;
    this.ticker = b.ticker;
    this.wakeUps = new WakeUps(b.ticker);
    DbTime time = b.clock == null ? DbTime.database() : DbTime.injected(b.clock);
    this.registry =
        b.clock == null
            ? new WorkerRegistry(store.jdbi())
            : new WorkerRegistry(store.jdbi(), b.clock);
    this.leaseThreads = LeaseThreads.create();
    this.runner = leaseThreads.runner(store);
    this.picking = new WorkPicking(store, settings);
    this.state = new SyncState(time);
    Inventory inventory = new Inventory(time);
    SnapshotWriter snapshots = new SnapshotWriter(time);
    this.github = b.github;
    ETagStore etags = new ETagStore(store.jdbi(), time);
    this.budgets = new CredentialBudgets(store.jdbi(), time);
    MergeBases mergeBases = new MergeBases(store.jdbi(), b.github);
    this.fetch = new FetchLane(b.github, state, inventory, etags);
    this.refresh =
        new RefreshLane(b.github, mergeBases, state, inventory, snapshots, settings, etags);
    this.backfill =
        new BackfillLane(
            store.jdbi(), b.github, mergeBases, state, inventory, snapshots, settings, ticker, etags);
  }

  public static Builder builder(WorkerLeases store, GitHub github) {
    return new Builder(store, github);
  }

  /** Builds a {@link Worker}. */
  public static final class Builder {
    private final WorkerLeases store;
    private final GitHub github;
    private SyncSettings settings = SyncSettings.defaults();
    private OwnerId owner;
    private LivenessSession liveness;
    private InstantSource clock;
    private Ticker ticker = Ticker.systemTicker();
    private SyncListener listener = SyncListener.NONE;
    private String version = defaultVersion();
    private Runnable housekeeping = () -> {};

    private Builder(WorkerLeases store, GitHub github) {
      this.store = requireNonNull(store, "store");
      this.github = requireNonNull(github, "github");
    }

    public Builder settings(SyncSettings settings) {
      this.settings = requireNonNull(settings, "settings");
      return this;
    }

    /**
     * Who the worker claims leases as. Defaults to the liveness session's owner, else a new
     * incarnation of {@code <hostname>:<pid>}.
     */
    public Builder owner(OwnerId owner) {
      this.owner = requireNonNull(owner, "owner");
      return this;
    }

    /**
     * The process's liveness session — the one the store was built with — whose key is recorded
     * when the worker registers. The caller keeps ownership and closes it after {@link #stop}.
     */
    public Builder liveness(LivenessSession liveness) {
      this.liveness = liveness;
      return this;
    }

    /**
     * Decide "now" with this clock instead of the database's; it must be the clock the store was
     * built with. For tests.
     */
    public Builder clock(InstantSource clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** The monotonic clock of pass durations and of the backfill's max runtime. */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    public Builder listener(SyncListener listener) {
      this.listener = requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Extra housekeeping run with the worker's own pruning of the lease event log (at start, then
     * hourly), for example pruning old webhook deliveries. Its failures are logged and ignored.
     */
    public Builder housekeeping(Runnable housekeeping) {
      this.housekeeping = requireNonNull(housekeeping, "housekeeping");
      return this;
    }

    /** The version the worker registers with. */
    public Builder version(String version) {
      this.version = requireNonNull(version, "version");
      return this;
    }

    public Worker build() {
      return new Worker(this);
    }
  }

  public OwnerId owner() {
    return owner;
  }

  public SyncSettings settings() {
    return settings;
  }

  /** True between {@link #start()} and {@link #stop}. */
  public boolean isRunning() {
    synchronized (lifecycle) {
      return lifecycleState == State.RUNNING && !stopping;
    }
  }

  /**
   * Registers the worker, runs the recovery pass and starts the worker loops. Returns the recovery
   * report. May be called once.
   */
  public RecoveryReport start() {
    synchronized (lifecycle) {
      if (lifecycleState != State.NEW) {
        throw new IllegalStateException("start() expects a NEW worker, but it is " + lifecycleState);
      }
      registry.register(
          new WorkerRegistry.Registration(
              owner,
              hostName(),
              ProcessHandle.current().pid(),
              version,
              liveness == null ? Optional.empty() : Optional.of(liveness.key())));
      RecoveryReport report = store.recover(owner);
      if (liveness != null) {
        subscriptions.add(liveness.listen(WorkSignal.CHANNEL, this::workSignalled));
        subscriptions.add(
            liveness.watchPeers(() -> wakeUps.after(store.ownerGoneAfter().plus(WAKE_MARGIN))));
      }
      maintenance =
          Executors.newSingleThreadScheduledExecutor(threads("changesync-maintenance", true));
      maintenance.scheduleWithFixedDelay(
          this::watchStale,
          0,
          settings.pollEvery().toMillis(),
          TimeUnit.MILLISECONDS);
      maintenance.scheduleWithFixedDelay(
          this::touch, TOUCH_EVERY.toMillis(), TOUCH_EVERY.toMillis(), TimeUnit.MILLISECONDS);
      maintenance.scheduleWithFixedDelay(
          this::prune, 0, PRUNE_EVERY.toMillis(), TimeUnit.MILLISECONDS);
      loops =
          Executors.newFixedThreadPool(
              settings.workerThreads(), threads("changesync-worker-%d", false));
      for (int i = 0; i < settings.workerThreads(); i++) {
        loops.execute(this::loop);
      }
      lifecycleState = State.RUNNING;
      log.info(
          "worker {} started with {} thread(s); recovery freed {} lease(s)",
          owner,
          settings.workerThreads(),
          report.total());
      return report;
    }
  }

  /**
   * Picks the next unit of work — a requested fetch, a refresh, a backfill pass, a periodic fetch,
   * in that order — and runs it under its lease on the calling thread. Returns what it ran, or
   * empty when there was nothing claimable (or the worker is stopping).
   */
  public Optional<PassResult> runOnce() {
    return picking
        .next(owner, runner::trustStart, () -> stopping)
        .map(pick -> run(pick.kind(), pick.lease(), pick.trustStart()));
  }

  private PassResult run(WorkKind kind, Lease lease, long trustStart) {
    Lane lane = kind.lane();
    long repositoryId = Lanes.repositoryId(lease.key().resource());
    listener.passStarted(kind, repositoryId);
    long startedNanos = ticker.read();
    AtomicReference<String> detail = new AtomicReference<>("");
    java.util.concurrent.atomic.AtomicBoolean notFound =
        new java.util.concurrent.atomic.AtomicBoolean();
    RunOutcome outcome =
        runner.run(
            lease,
            trustStart,
            new LeaseWork<Handle>() {
              @Override
              public Completion<Handle> run(Lease held, Cancellation cancellation) {
                Pass pass = new Pass(store, held, repositoryId, cancellation, () -> forceStop);
                detail.set(
                    switch (lane) {
                      case FETCH -> fetch.run(pass);
                      case REFRESH -> refresh.run(pass);
                      case BACKFILL -> backfill.run(pass);
                    });
                return h -> {
                  state.succeeded(h, lane, repositoryId);
                  CredentialBudgets.recordCredential(h, repositoryId, github);
                  WorkSignal.send(h, lane.leaseLane());
                };
              }

              @Override
              public Completion<Handle> onFailure(Throwable cause) {
                if (forceStop || cause instanceof Pass.WorkerStoppingException) {
                  return h -> {
                    state.interrupted(h, lane, repositoryId);
                    WorkSignal.send(h, lane.leaseLane()); // another worker may go on with it
                  };
                }
                // Short and user-facing; the cause itself is logged below.
                Failure failure = Failure.classify(cause);
                Optional<Instant> notBefore = retryAt(cause);
                // A fetch lists the repository itself: a 404 / 410 there means it is gone (or no
                // longer visible), and retrying it would only cost rate limit and log lines.
                boolean gone = lane == Lane.FETCH && Failure.repositoryGone(cause);
                notFound.set(gone);
                String error =
                    gone
                        ? failure.message()
                            + "; not retried until it is tracked again or an admin requests a"
                            + " fetch"
                        : failure.message();
                return h -> {
                  state.failed(h, lane, repositoryId, error, notBefore, settings);
                  CredentialBudgets.recordCredential(h, repositoryId, github);
                  if (gone) {
                    state.notFoundOnGitHub(h, repositoryId);
                  }
                };
              }
            });
    Duration took = Duration.ofNanos(ticker.read() - startedNanos);
    recordBudgets();
    String summary;
    if (outcome instanceof RunOutcome.Failed failed) {
      summary = "failed: " + SyncState.describe(failed.cause());
      if (Failure.expected(failed.cause())) {
        // GitHub 5xx, timeouts, rate limits, an unreachable database, a lost lease: one line.
        log.warn(
            "{} of repository {} failed after {}: {}",
            kind,
            repositoryId,
            Failure.millis(took),
            Failure.chain(failed.cause()));
      } else {
        log.warn(
            "{} of repository {} failed after {}",
            kind,
            repositoryId,
            Failure.millis(took),
            failed.cause());
      }
    } else if (outcome instanceof RunOutcome.Lost lost) {
      summary = "lease lost: " + lost.detail();
      log.warn("{} of repository {} cut short: {}", kind, repositoryId, lost.detail());
    } else {
      summary = detail.get();
      log.info(
          "{} of repository {} done in {}: {}", kind, repositoryId, Failure.millis(took), summary);
    }
    if (notFound.get()) {
      log.warn(
          "repository {}: GitHub says it does not exist or is not visible (404/410); no lane"
              + " retries it until it is tracked again or an admin requests a fetch",
          repositoryId);
    }
    PassResult result = new PassResult(kind, repositoryId, outcome, took, summary);
    listener.passFinished(result);
    return result;
  }

  /** When GitHub said it takes requests again, if a rate limit is (part of) the cause. */
  private static Optional<Instant> retryAt(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof GitHubException g && g.retryAt().isPresent()) {
        return g.retryAt();
      }
    }
    return Optional.empty();
  }

  private void loop() {
    while (!stopping) {
      boolean worked = false;
      long mark = wakeUps.mark();
      try {
        worked = runOnce().isPresent();
      } catch (VirtualMachineError e) {
        throw e;
      } catch (Throwable t) {
        if (Failure.expected(t)) {
          log.warn(
              "worker loop iteration failed; polling again in {}: {}",
              Failure.millis(settings.pollEvery()),
              Failure.chain(t));
        } else {
          log.warn(
              "worker loop iteration failed; polling again in {}",
              Failure.millis(settings.pollEvery()),
              t);
        }
        listener.loopFailed(t);
      }
      if (Thread.currentThread().isInterrupted()) {
        return; // only a forced stop interrupts the loops
      }
      if (!worked && !stopping) {
        try {
          wakeUps.await(mark, settings.pollEvery());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /**
   * A {@link WorkSignal}: work of a lane may be claimable now. A webhook hint's refresh is due
   * only once the debounce has passed, so that lane wakes the loops then as well.
   */
  private void workSignalled(String lane) {
    wakeUps.now();
    if (Lanes.REFRESH.equals(lane)) {
      wakeUps.after(settings.webhookDebounce().plus(WAKE_MARGIN));
    }
  }

  /**
   * Wakes the loops when the next lease held by another worker goes stale before the next look,
   * so that a hung or dead holder's work moves on at stale-after, not at the next poll after it.
   */
  private void watchStale() {
    try {
      store
          .untilNextStale(owner)
          .filter(d -> d.compareTo(settings.pollEvery()) <= 0)
          .ifPresent(d -> wakeUps.after(d.plus(WAKE_MARGIN)));
    } catch (RuntimeException e) {
      log.debug("could not read when the next lease goes stale", e);
    }
  }

  /** Records that this worker is alive, with the GitHub rate limit it last saw. */
  void touch() {
    try {
      registry.touch(owner, github.rateLimit());
    } catch (RuntimeException e) {
      log.warn("could not record that worker {} is alive: {}", owner, Failure.chain(e));
    }
    recordBudgets();
  }

  /** Shares what the client saw of each credential's rate limit with the other workers. */
  private void recordBudgets() {
    try {
      budgets.record(github);
    } catch (RuntimeException e) {
      log.warn("could not record the GitHub rate limits seen: {}", Failure.chain(e));
    }
  }

  private void prune() {
    try {
      store.pruneEvents();
    } catch (RuntimeException e) {
      log.warn("pruning lease events failed: {}", Failure.chain(e));
    }
    try {
      registry.prune(WorkerRegistry.DEFAULT_RETENTION);
    } catch (RuntimeException e) {
      log.warn("pruning stopped workers failed: {}", Failure.chain(e));
    }
    try {
      housekeeping.run();
    } catch (RuntimeException e) {
      log.warn("housekeeping failed", e);
    }
  }

  /**
   * Stops claiming new work at once, without waiting for running passes: the first step of a
   * shutdown, taken before anything else is drained. {@link #stop(Duration)} does the rest.
   */
  public void stopClaiming() {
    stopping = true;
    wakeUps.close();
  }

  /**
   * Stops the worker: no more claims; running passes get {@code grace} to finish, then they are
   * cancelled (stopped at their next checkpoint and interrupted) and given a little longer to
   * return. Every pass releases its lease as it ends. Marks the worker stopped. Returns true when
   * every pass ended within the grace period. Idempotent; an interrupt while waiting cuts the
   * waiting short and is kept.
   */
  public boolean stop(Duration grace) {
    requireNonNull(grace, "grace");
    synchronized (lifecycle) {
      if (lifecycleState == State.STOPPED) {
        return true;
      }
      boolean started = lifecycleState == State.RUNNING;
      stopClaiming();
      boolean clean = true;
      boolean interrupted = false;
      if (loops != null) {
        loops.shutdown();
        try {
          clean = loops.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
          clean = false;
        }
        if (!clean) {
          log.warn(
              "passes still running after the grace period of {}; cancelling them",
              Failure.millis(grace));
          forceStop = true;
          loops.shutdownNow();
          if (!interrupted) {
            try {
              if (!loops.awaitTermination(FORCED_STOP_WAIT.toNanos(), TimeUnit.NANOSECONDS)) {
                log.warn("passes did not return within {} of being cancelled", FORCED_STOP_WAIT);
              }
            } catch (InterruptedException e) {
              interrupted = true;
            }
          }
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      subscriptions.forEach(LivenessSession.Subscription::close);
      subscriptions.clear();
      if (maintenance != null) {
        MoreExecutors.shutdownAndAwaitTermination(maintenance, Duration.ofSeconds(5));
      }
      leaseThreads.close();
      if (started) {
        try {
          registry.stopped(owner);
        } catch (RuntimeException e) {
          log.warn("could not mark worker {} stopped", owner, e);
        }
      }
      lifecycleState = State.STOPPED;
      log.info("worker {} stopped{}", owner, clean ? "" : " (passes were cancelled)");
      return clean;
    }
  }

  /** {@link #stop(Duration)} with the settings' shutdown grace. */
  public boolean stop() {
    return stop(settings.shutdownGrace());
  }

  @Override
  public void close() {
    stop();
  }

  // ---------------------------------------------------------------------------------------------

  private static ThreadFactory threads(String nameFormat, boolean daemon) {
    if (!nameFormat.contains("%d")) {
      return new ThreadFactoryBuilder().setNameFormat(nameFormat).setDaemon(daemon).build();
    }
    AtomicInteger next = new AtomicInteger(1);
    ThreadFactory base = Executors.defaultThreadFactory();
    return runnable -> {
      Thread thread = base.newThread(runnable);
      thread.setName(String.format(nameFormat, next.getAndIncrement()));
      thread.setDaemon(daemon);
      return thread;
    };
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown";
    }
  }

  private static OwnerId defaultOwner() {
    return OwnerId.newIncarnation(hostName() + ":" + ProcessHandle.current().pid());
  }

  private static String defaultVersion() {
    String v = Worker.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
