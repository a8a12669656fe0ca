package dev.changesync.benchmarks;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one scenario: {@code threads} client threads each set up their own {@link Loop} and then
 * call it back to back — first for the warm-up, unmeasured, then for the measured window. An
 * iteration counts when it <em>starts</em> inside the window; iterations that started in the
 * warm-up and end inside the window are left out, those that start inside and end after it are
 * kept, so the two edges roughly cancel.
 *
 * <p>Each thread records into its own {@link Tally} (no sharing, no locks on the hot path); the
 * tallies are merged once the threads have stopped.
 */
final class LoadRun {

  private static final Logger log = LoggerFactory.getLogger(LoadRun.class);
  private static final int LOGGED_ERRORS = 5;

  /** One client thread's work: {@link #runOnce} is one iteration (a cycle, a heartbeat, ...). */
  interface Loop {
    void runOnce(Tally tally) throws Exception;
  }

  /** Sets up the loop of client thread {@code index} (0-based), on that thread. */
  interface LoopFactory {
    Loop create(int index) throws Exception;
  }

  /** Work done once between the loops' setup and the warm-up (for example ANALYZE). */
  interface Step {
    void run() throws Exception;
  }

  /** Something sampled at the start and the end of the measured window (WAL position, CPU). */
  interface Probe {
    Map<String, Long> sample() throws Exception;
  }

  private enum Phase {
    SETUP,
    WARMUP,
    MEASURE,
    STOP
  }

  private final String name;
  private final int threads;
  private volatile Phase phase = Phase.SETUP;
  private final CountDownLatch go = new CountDownLatch(1);
  private final CountDownLatch stopped;
  private final AtomicLong errors = new AtomicLong();
  private final AtomicInteger logged = new AtomicInteger();

  LoadRun(String name, int threads) {
    this.name = requireNonNull(name, "name");
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    this.threads = threads;
    this.stopped = new CountDownLatch(threads);
  }

  /** Ends the run early (Ctrl-C): the threads stop after their current iteration. */
  void abort() {
    phase = Phase.STOP;
    go.countDown();
  }

  /** Waits up to {@code timeout} for the client threads to stop; true when they all did. */
  boolean awaitStopped(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Sets up the loops, runs {@code afterSetup}, warms up for {@code warmupFor}, measures for {@code
   * measureFor} and returns the merged tallies.
   */
  Result run(
      Duration warmupFor, Duration measureFor, LoopFactory factory, Step afterSetup, Probe probe)
      throws Exception {
    AtomicInteger threadNumber = new AtomicInteger();
    ExecutorService executor =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "changesync-bench-" + threadNumber.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    CountDownLatch ready = new CountDownLatch(threads);
    List<Future<Tally>> futures = new ArrayList<>();
    try {
      long setupStart = System.nanoTime();
      for (int i = 0; i < threads; i++) {
        int index = i;
        futures.add(executor.submit(() -> clientThread(index, factory, ready)));
      }
      while (!ready.await(100, TimeUnit.MILLISECONDS)) {
        for (Future<Tally> f : futures) {
          if (f.isDone()) {
            abort();
            f.get(); // a failed setup: throws its cause
          }
        }
        if (phase == Phase.STOP) {
          break;
        }
      }
      if (phase != Phase.STOP) {
        afterSetup.run();
      }
      Duration setupTook = Duration.ofNanos(System.nanoTime() - setupStart);

      start(Phase.WARMUP);
      sleepUnlessStopped(warmupFor);
      Map<String, Long> before = probe.sample();
      long measureStart = System.nanoTime();
      start(Phase.MEASURE);
      sleepUnlessStopped(measureFor);
      start(Phase.STOP);
      long measureEnd = System.nanoTime();
      Map<String, Long> after = probe.sample();

      Tally total = new Tally();
      for (Future<Tally> f : futures) {
        total.add(f.get());
      }
      return Result.of(
          name,
          threads,
          setupTook,
          Duration.ofNanos(measureEnd - measureStart),
          total,
          errors.get(),
          before,
          after);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    } finally {
      abort();
      shutdownAndAwait(executor);
    }
  }

  private void start(Phase next) {
    if (phase != Phase.STOP) {
      phase = next;
    }
    go.countDown();
  }

  private void sleepUnlessStopped(Duration duration) throws InterruptedException {
    long deadline = System.nanoTime() + duration.toNanos();
    long left;
    while (phase != Phase.STOP && (left = deadline - System.nanoTime()) > 0) {
      TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
    }
  }

  private Tally clientThread(int index, LoopFactory factory, CountDownLatch ready)
      throws Exception {
    try {
      Loop loop = factory.create(index);
      ready.countDown();
      go.await();
      Tally tally = new Tally();
      Phase current;
      while ((current = phase) != Phase.STOP) {
        tally.measuring = current == Phase.MEASURE;
        try {
          loop.runOnce(tally);
        } catch (Throwable t) {
          // One failed iteration never stops the run; it is counted and the first few logged.
          if (current == Phase.MEASURE) {
            errors.incrementAndGet();
          }
          if (phase != Phase.STOP && logged.incrementAndGet() <= LOGGED_ERRORS) {
            log.warn("{}: iteration failed on {}", name, Thread.currentThread().getName(), t);
          }
        }
      }
      return tally;
    } finally {
      stopped.countDown();
    }
  }

  private static void shutdownAndAwait(ExecutorService executor) throws InterruptedException {
    executor.shutdown();
    try {
      if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
        executor.shutdownNow();
        executor.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
      throw e;
    }
  }

  /** What one client thread measured: latency histograms (µs) and counters, by name. */
  static final class Tally {
    private final Map<String, Histogram> latencies = new LinkedHashMap<>();
    private final Map<String, Long> counts = new LinkedHashMap<>();
    private boolean measuring;

    /**
     * Records the time since {@code startNanos} as a {@code what} latency (when measuring) and
     * returns the current {@link System#nanoTime()}, to chain the next step from.
     */
    long record(String what, long startNanos) {
      long now = System.nanoTime();
      if (measuring) {
        latencies
            .computeIfAbsent(what, k -> new Histogram(3))
            .recordValue(Math.max(0, (now - startNanos) / 1_000));
      }
      return now;
    }

    /** Counts one {@code what} (when measuring). */
    void count(String what) {
      if (measuring) {
        counts.merge(what, 1L, Long::sum);
      }
    }

    /** A tally of counters only, for runs whose clients are not {@link Loop}s (db-scheduler). */
    static Tally ofCounts(Map<String, Long> counts) {
      Tally tally = new Tally();
      tally.counts.putAll(counts);
      return tally;
    }

    long count(String what, long orElse) {
      return counts.getOrDefault(what, orElse);
    }

    Histogram latency(String what) {
      return latencies.get(what);
    }

    private void add(Tally other) {
      other.latencies.forEach(
          (k, h) -> latencies.computeIfAbsent(k, x -> new Histogram(3)).add(h));
      other.counts.forEach((k, v) -> counts.merge(k, v, Long::sum));
    }
  }

  /**
   * A finished run.
   *
   * @param setupTook time the client threads took to set up their loops
   * @param measuredFor the measured window as it really was
   * @param tally all threads' tallies merged
   * @param errors failed iterations in the measured window
   * @param probeDeltas end minus start of each probe value over the measured window
   */
  record Result(
      String name,
      int threads,
      Duration setupTook,
      Duration measuredFor,
      Tally tally,
      long errors,
      Map<String, Long> probeDeltas) {

    /** A result from probe samples taken at the window's start ({@code before}) and end. */
    static Result of(
        String name,
        int threads,
        Duration setupTook,
        Duration measuredFor,
        Tally tally,
        long errors,
        Map<String, Long> before,
        Map<String, Long> after) {
      Map<String, Long> deltas = new LinkedHashMap<>();
      after.forEach((k, v) -> deltas.put(k, v - before.getOrDefault(k, 0L)));
      return new Result(name, threads, setupTook, measuredFor, tally, errors, deltas);
    }

    double perSecond(String counter) {
      return tally.count(counter, 0) / (measuredFor.toNanos() / 1e9);
    }
  }
}
