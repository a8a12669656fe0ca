package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.config.Setting;
import dev.changesync.lease.LeasePolicy;
import java.time.Duration;

/**
 * How the sync lanes and the worker loop pace themselves (SPEC §3, defaults from SPEC §6).
 *
 * @param pollEvery how long an idle worker thread waits before it polls for work again
 *     ({@code CHANGESYNC_POLL_INTERVAL}, 5 s)
 * @param webhookDebounce how long a repository stays dirty before a requested fetch runs, so that
 *     a burst of webhooks costs one scan ({@code CHANGESYNC_WEBHOOK_DEBOUNCE}, 15 s)
 * @param minFetchInterval the least time between the starts of two fetch passes of a repository
 *     that was scanned before ({@code CHANGESYNC_MIN_FETCH_INTERVAL}, 1 min)
 * @param inventoryMaxAge a repository whose last complete scan is older than this is scanned again
 *     ({@code CHANGESYNC_INVENTORY_MAX_AGE}, 6 h)
 * @param backfillInterval the least time between the end of one backfill pass of a repository and
 *     the start of the next ({@code CHANGESYNC_BACKFILL_INTERVAL}, 5 s)
 * @param backfillMaxPulls at most this many pull requests are rebuilt per backfill pass ({@code
 *     CHANGESYNC_BACKFILL_MAX_PRS}, 1000)
 * @param backfillMaxRuntime a backfill pass stops after the pull request it is working on once it
 *     has run this long ({@code CHANGESYNC_BACKFILL_MAX_RUNTIME}, 30 min)
 * @param failedPullRetryAfter a walk over pull requests whose only unfinished rows are {@code
 *     failed} starts again only this long after the previous backfill pass ended (15 min)
 * @param refreshMaxHintsPerPass at most this many refresh hints are handled per refresh pass (500)
 * @param shutdownGrace how long a graceful stop lets running passes finish before cancelling them
 *     ({@code CHANGESYNC_SHUTDOWN_GRACE}, 30 s)
 * @param workerThreads how many passes one worker runs at the same time ({@code
 *     CHANGESYNC_WORKER_THREADS}, 2)
 * @param leasePolicy the timing of every lease the worker claims ({@code CHANGESYNC_LEASE_TTL} and
 *     friends; TTL 15 min)
 * @param retryBackoffBase the retry-after of a lane after its first failure; it doubles with every
 *     further failure (30 s)
 * @param retryBackoffCap the longest retry-after a failing lane gets (1 h)
 */
public record SyncSettings(
    Duration pollEvery,
    Duration webhookDebounce,
    Duration minFetchInterval,
    Duration inventoryMaxAge,
    Duration backfillInterval,
    int backfillMaxPulls,
    Duration backfillMaxRuntime,
    Duration failedPullRetryAfter,
    int refreshMaxHintsPerPass,
    Duration shutdownGrace,
    int workerThreads,
    LeasePolicy leasePolicy,
    Duration retryBackoffBase,
    Duration retryBackoffCap) {

  public SyncSettings {
    positive("pollEvery", pollEvery);
    notNegative("webhookDebounce", webhookDebounce);
    notNegative("minFetchInterval", minFetchInterval);
    positive("inventoryMaxAge", inventoryMaxAge);
    notNegative("backfillInterval", backfillInterval);
    atLeastOne("backfillMaxPulls", backfillMaxPulls);
    positive("backfillMaxRuntime", backfillMaxRuntime);
    notNegative("failedPullRetryAfter", failedPullRetryAfter);
    atLeastOne("refreshMaxHintsPerPass", refreshMaxHintsPerPass);
    notNegative("shutdownGrace", shutdownGrace);
    atLeastOne("workerThreads", workerThreads);
    requireNonNull(leasePolicy, "leasePolicy");
    positive("retryBackoffBase", retryBackoffBase);
    positive("retryBackoffCap", retryBackoffCap);
    if (retryBackoffCap.compareTo(retryBackoffBase) < 0) {
      throw new IllegalArgumentException(
          "retryBackoffCap ("
              + retryBackoffCap
              + ") must not be shorter than retryBackoffBase ("
              + retryBackoffBase
              + ")");
    }
  }

  /**
   * The settings of {@code config}: its intervals and limits, worker threads and lease policy; the
   * defaults for what has no variable.
   */
  public static SyncSettings from(ChangesyncConfig config) {
    return builder()
        .pollEvery(config.get(Setting.POLL_INTERVAL))
        .webhookDebounce(config.get(Setting.WEBHOOK_DEBOUNCE))
        .minFetchInterval(config.get(Setting.MIN_FETCH_INTERVAL))
        .inventoryMaxAge(config.get(Setting.INVENTORY_MAX_AGE))
        .backfillInterval(config.get(Setting.BACKFILL_INTERVAL))
        .backfillMaxPulls(config.get(Setting.BACKFILL_MAX_PRS))
        .backfillMaxRuntime(config.get(Setting.BACKFILL_MAX_RUNTIME))
        .shutdownGrace(config.get(Setting.SHUTDOWN_GRACE))
        .retryBackoffBase(config.get(Setting.RETRY_MIN))
        .retryBackoffCap(config.get(Setting.RETRY_MAX))
        .workerThreads(config.get(Setting.WORKER_THREADS))
        .leasePolicy(config.leasePolicy())
        .build();
  }

  /** The defaults of SPEC §6. */
  public static SyncSettings defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these settings. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * The retry-after of a lane that has now failed {@code failures} times in a row: the base,
   * doubled for every failure after the first, capped.
   */
  public Duration retryAfter(int failures) {
    if (failures <= 1) {
      return retryBackoffBase;
    }
    int doublings = Math.min(failures - 1, 40);
    Duration delay = retryBackoffBase;
    for (int i = 0; i < doublings && delay.compareTo(retryBackoffCap) < 0; i++) {
      delay = delay.multipliedBy(2);
    }
    return delay.compareTo(retryBackoffCap) > 0 ? retryBackoffCap : delay;
  }

  /** Builds {@link SyncSettings}; unset values keep their defaults. */
  public static final class Builder {
    private Duration pollEvery = Setting.POLL_INTERVAL.parsedDefault();
    private Duration webhookDebounce = Setting.WEBHOOK_DEBOUNCE.parsedDefault();
    private Duration minFetchInterval = Setting.MIN_FETCH_INTERVAL.parsedDefault();
    private Duration inventoryMaxAge = Setting.INVENTORY_MAX_AGE.parsedDefault();
    private Duration backfillInterval = Setting.BACKFILL_INTERVAL.parsedDefault();
    private int backfillMaxPulls = Setting.BACKFILL_MAX_PRS.parsedDefault();
    private Duration backfillMaxRuntime = Setting.BACKFILL_MAX_RUNTIME.parsedDefault();
    private Duration failedPullRetryAfter = Duration.ofMinutes(15);
    private int refreshMaxHintsPerPass = 500;
    private Duration shutdownGrace = Setting.SHUTDOWN_GRACE.parsedDefault();
    private int workerThreads = Setting.WORKER_THREADS.parsedDefault();
    private LeasePolicy leasePolicy = LeasePolicy.defaults();
    private Duration retryBackoffBase = Setting.RETRY_MIN.parsedDefault();
    private Duration retryBackoffCap = Setting.RETRY_MAX.parsedDefault();

    private Builder() {}

    private Builder(SyncSettings s) {
      pollEvery = s.pollEvery;
      webhookDebounce = s.webhookDebounce;
      minFetchInterval = s.minFetchInterval;
      inventoryMaxAge = s.inventoryMaxAge;
      backfillInterval = s.backfillInterval;
      backfillMaxPulls = s.backfillMaxPulls;
      backfillMaxRuntime = s.backfillMaxRuntime;
      failedPullRetryAfter = s.failedPullRetryAfter;
      refreshMaxHintsPerPass = s.refreshMaxHintsPerPass;
      shutdownGrace = s.shutdownGrace;
      workerThreads = s.workerThreads;
      leasePolicy = s.leasePolicy;
      retryBackoffBase = s.retryBackoffBase;
      retryBackoffCap = s.retryBackoffCap;
    }

    public Builder pollEvery(Duration value) {
      pollEvery = value;
      return this;
    }

    public Builder webhookDebounce(Duration value) {
      webhookDebounce = value;
      return this;
    }

    public Builder minFetchInterval(Duration value) {
      minFetchInterval = value;
      return this;
    }

    public Builder inventoryMaxAge(Duration value) {
      inventoryMaxAge = value;
      return this;
    }

    public Builder backfillInterval(Duration value) {
      backfillInterval = value;
      return this;
    }

    public Builder backfillMaxPulls(int value) {
      backfillMaxPulls = value;
      return this;
    }

    public Builder backfillMaxRuntime(Duration value) {
      backfillMaxRuntime = value;
      return this;
    }

    public Builder failedPullRetryAfter(Duration value) {
      failedPullRetryAfter = value;
      return this;
    }

    public Builder refreshMaxHintsPerPass(int value) {
      refreshMaxHintsPerPass = value;
      return this;
    }

    public Builder shutdownGrace(Duration value) {
      shutdownGrace = value;
      return this;
    }

    public Builder workerThreads(int value) {
      workerThreads = value;
      return this;
    }

    public Builder leasePolicy(LeasePolicy value) {
      leasePolicy = value;
      return this;
    }

    public Builder retryBackoffBase(Duration value) {
      retryBackoffBase = value;
      return this;
    }

    public Builder retryBackoffCap(Duration value) {
      retryBackoffCap = value;
      return this;
    }

    public SyncSettings build() {
      return new SyncSettings(
          pollEvery,
          webhookDebounce,
          minFetchInterval,
          inventoryMaxAge,
          backfillInterval,
          backfillMaxPulls,
          backfillMaxRuntime,
          failedPullRetryAfter,
          refreshMaxHintsPerPass,
          shutdownGrace,
          workerThreads,
          leasePolicy,
          retryBackoffBase,
          retryBackoffCap);
    }
  }

  private static void positive(String name, Duration value) {
    requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }

  private static void notNegative(String name, Duration value) {
    requireNonNull(value, name);
    if (value.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative, got " + value);
    }
  }

  private static void atLeastOne(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, got " + value);
    }
  }
}
