package dev.changesync.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.changesync.engine.lease.Candidates;
import dev.changesync.benchmarks.BenchmarkOptions.Scenario;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.HeartbeatResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.HdrHistogram.Histogram;

/**
 * Throughput and latency of {@link PostgresLeaseStore} against a real PostgreSQL server, and of
 * its peers (plain JDBC, ShedLock, db-scheduler) doing the same work on the same server, for
 * comparison ({@code benchmarks/compare.sh} prints the ratios):
 *
 * <ul>
 *   <li><b>claim-release</b>: each thread claims a random key of {@code --keys} and, when granted,
 *       releases it at once. One cycle is two statements (claim, release).
 *   <li><b>heartbeat</b>: each thread holds {@code keys / threads} leases of its own and heartbeats
 *       random ones. One heartbeat is one statement.
 *   <li><b>claim-next</b>: {@code --keys} registered keys; each thread claims the next claimable
 *       one ({@code FOR UPDATE SKIP LOCKED}) in a fixed order and releases it at once, so all
 *       threads fight over the head of the queue. With {@code --claim-batch N} above 1 the threads
 *       are one worker process's: a thread that finds none of the process's claimed leases left
 *       claims the next N with one statement for the process (one owner), takes one and leaves the
 *       rest to the other threads, as db-scheduler's poller fetches a batch for its executor
 *       threads; every lease is released on its own by the thread that took it. At most {@code
 *       threads × N} leases are held, so work always exists: every empty claim-next counts as
 *       "empty while work existed". One op is one lease claimed and released.
 * </ul>
 *
 * <p>Everything runs in a throw-away database ({@link ThrowawayDatabase}) that is migrated with
 * {@link Migrations} and dropped at the end, also on Ctrl-C. Lease rows are registered up front,
 * so the measured window sees the steady state (rows exist). The store uses database time and no
 * liveness, as built by {@code PostgresLeaseStore.builder(dataSource).build()}.
 */
public final class LeaseBenchmark {

  private static final LeasePolicy POLICY = LeasePolicy.defaults();

  private final BenchmarkOptions options;
  private final PrintStream out;
  private final Report report;
  private final AtomicReference<LoadRun> current = new AtomicReference<>();
  private final Map<String, List<StatementStats.Row>> statements = new LinkedHashMap<>();
  private Connection monitor; // set by runScenarios
  private boolean statementStats; // pg_stat_statements is available
  private volatile boolean stopping;

  private LeaseBenchmark(BenchmarkOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
    this.report = new Report(out, options);
  }

  public static void main(String[] args) {
    List<String> arguments = Arrays.asList(args);
    if (BenchmarkOptions.wantsHelp(arguments)) {
      System.out.print(BenchmarkOptions.USAGE);
      return;
    }
    BenchmarkOptions options;
    try {
      options = BenchmarkOptions.parse(arguments, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("changesync-benchmarks: " + e.getMessage());
      System.err.print(BenchmarkOptions.USAGE);
      System.exit(2);
      return;
    }
    LeaseBenchmark benchmark = new LeaseBenchmark(options, System.out);
    try {
      benchmark.run();
    } catch (Exception e) {
      if (benchmark.stopping) {
        // Ctrl-C: the shutdown hook dropped the database under the running scenario.
        System.err.println("changesync-benchmarks: interrupted, dropping the benchmark database");
        return;
      }
      System.err.println("changesync-benchmarks: failed: " + e);
      e.printStackTrace();
      System.exit(1);
    }
  }

  private void run() throws Exception {
    ThrowawayDatabase db = ThrowawayDatabase.create(options.url());
    Thread cleanup =
        new Thread(
            () -> {
              // Ctrl-C: stop the clients, then drop the database (terminating what is left).
              stopping = true;
              LoadRun run = current.get();
              if (run != null) {
                run.abort();
                try {
                  run.awaitStopped(Duration.ofSeconds(5));
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              dropQuietly(db);
            },
            "changesync-bench-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      out.printf(
          Locale.ROOT,
          "changesync lease benchmark: database %s on %s%n",
          db.name(),
          ThrowawayDatabase.mask(ThrowawayDatabase.maintenanceUrl(options.url())));
      runScenarios(db);
    } finally {
      dropQuietly(db);
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException e) {
        // Already shutting down: the hook is running or has run.
      }
    }
  }

  private void runScenarios(ThrowawayDatabase db) throws Exception {
    // Flyway holds two connections at once: migrate through a pool of its own.
    try (HikariDataSource migrationPool = pool(db, "changesync-bench-migrate", 2)) {
      Migrations.migrate(migrationPool);
    }
    List<LoadRun.Result> results = new ArrayList<>();
    try (HikariDataSource pool = pool(db, "changesync-bench", options.threads());
        Connection monitor = db.connect()) {
      PostgresLeaseStore store =
          PostgresLeaseStore.builder(pool)
              .synchronousRelease(options.synchronousRelease())
              .build();
      report.server(monitor);
      this.monitor = monitor;
      this.statementStats = StatementStats.available(monitor);
      if (!statementStats) {
        out.println(
            "(no statement breakdown: the server does not preload pg_stat_statements)");
      }
      LoadRun.Probe probe = () -> Probes.sample(monitor);
      for (Scenario scenario : options.scenarios()) {
        List<LoadRun.Result> ran = new ArrayList<>();
        switch (scenario) {
          case CLAIM_RELEASE -> ran.add(claimRelease(store, probe));
          case HEARTBEAT -> {
            for (int held : options.heldPerThread()) {
              ran.add(heartbeat(store, held, probe));
            }
          }
          case CLAIM_NEXT -> ran.add(claimNext(store, probe));
          case JDBC_CYCLE -> {
            PeerScenarios.prepareJdbc(pool, options.keys());
            ran.add(
                measure(
                    "jdbc-cycle",
                    PeerScenarios.jdbcCycle(pool, options.keys()),
                    analyze(store),
                    probe));
          }
          case JDBC_AUDITED -> {
            PeerScenarios.prepareJdbcAudited(pool, options.keys());
            ran.add(
                measure(
                    "jdbc-audited",
                    PeerScenarios.jdbcAudited(pool, options.keys()),
                    analyze(store),
                    probe));
          }
          case SHEDLOCK -> {
            PeerScenarios.prepareShedLock(pool);
            ran.add(measure("shedlock", PeerScenarios.shedLock(pool), analyze(store), probe));
          }
          case DB_SCHEDULER -> ran.add(dbScheduler(db, store, probe));
        }
        if (stopping) {
          // Ctrl-C: the figures of an aborted run mean nothing.
          System.err.println("changesync-benchmarks: interrupted, dropping the benchmark database");
          return;
        }
        ran.forEach(r -> report.scenario(r, statements.getOrDefault(r.name(), List.of())));
        results.addAll(ran);
      }
    }
    report.summary(results);
  }

  private static HikariDataSource pool(ThrowawayDatabase db, String name, int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(db.url());
    config.setPoolName(name);
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(size);
    return new HikariDataSource(config);
  }

  // ---------------------------------------------------------------------------------------------
  // Scenarios
  // ---------------------------------------------------------------------------------------------

  private LoadRun.Result claimRelease(PostgresLeaseStore store, LoadRun.Probe probe)
      throws Exception {
    List<LeaseKey> keys = keys("claim-release");
    prepare(store, keys);
    return measure(
        "claim-release",
        store,
        index -> {
          OwnerId owner = OwnerId.newIncarnation("bench-" + index);
          return tally -> {
            LeaseKey key = keys.get(ThreadLocalRandom.current().nextInt(keys.size()));
            long start = System.nanoTime();
            ClaimResult claim = store.claim(key, owner, POLICY);
            long claimed = tally.record("claim", start);
            tally.count("statements");
            if (claim instanceof ClaimResult.Granted granted) {
              boolean released = store.release(granted.lease());
              tally.record("release", claimed);
              tally.count("statements");
              if (released) {
                tally.record("cycle", start);
                tally.count("ops");
              } else {
                tally.count("release refused");
              }
            } else {
              tally.count("held");
            }
          };
        },
        probe);
  }

  /**
   * Each client thread is a worker holding {@code held} leases of its own and renewing all of them
   * with one {@link PostgresLeaseStore#heartbeatAll} statement per iteration, as a worker's batched
   * heartbeats do: leases renewed per second, and statements per second.
   */
  private LoadRun.Result heartbeat(PostgresLeaseStore store, int held, LoadRun.Probe probe)
      throws Exception {
    String name = "heartbeat-" + held;
    int threads = options.threads();
    List<LeaseKey> keys =
        IntStream.range(0, threads * held).mapToObj(i -> LeaseKey.of("bench:" + i, name)).toList();
    prepare(store, keys);
    return measure(
        name,
        store,
        index -> {
          // Setup, on the client thread: claim this thread's share of the keys.
          OwnerId owner = OwnerId.newIncarnation("bench-" + index);
          List<Lease> leases = new ArrayList<>();
          for (int k = index; k < keys.size(); k += threads) {
            ClaimResult claim = store.claim(keys.get(k), owner, POLICY);
            leases.add(
                claim
                    .granted()
                    .orElseThrow(() -> new IllegalStateException("setup claim refused: " + claim)));
          }
          return tally -> {
            long start = System.nanoTime();
            List<HeartbeatResult> results = store.heartbeatAll(leases);
            tally.record("heartbeat", start);
            tally.count("statements");
            for (int i = 0; i < results.size(); i++) {
              if (results.get(i) instanceof HeartbeatResult.Renewed renewed) {
                leases.set(i, renewed.lease());
                tally.count("ops");
              } else {
                tally.count("lost");
                int lost = i;
                store.claim(leases.get(i).key(), owner, POLICY)
                    .granted()
                    .ifPresent(lease -> leases.set(lost, lease));
              }
            }
          };
        },
        probe);
  }

  private LoadRun.Result claimNext(PostgresLeaseStore store, LoadRun.Probe probe)
      throws Exception {
    String lane = "claim-next";
    List<LeaseKey> keys = keys(lane);
    store.jdbi()
        .useHandle(
            h -> {
              h.execute("create table bench_candidate (resource text primary key)");
              var batch = h.prepareBatch("insert into bench_candidate (resource) values (?)");
              keys.forEach(k -> batch.add(k.resource()));
              batch.execute();
            });
    prepare(store, keys);
    Candidates candidates =
        Candidates.of("select resource from bench_candidate", "c.resource");
    int batch = options.claimBatch();
    // Leases claimed for the process's threads and not yet taken by one (claim batches > 1).
    Queue<Lease> claimedAhead = new ConcurrentLinkedQueue<>();
    OwnerId process = OwnerId.newIncarnation("bench-process");
    return measure(
        "claim-next",
        store,
        index -> {
          OwnerId owner = batch == 1 ? OwnerId.newIncarnation("bench-" + index) : process;
          return tally -> {
            long start = System.nanoTime();
            Lease lease = claimedAhead.poll();
            if (lease == null) {
              List<ClaimResult.Granted> granted =
                  batch == 1
                      ? store.claimNext(lane, owner, POLICY, candidates).stream().toList()
                      : store.claimNext(lane, owner, POLICY, candidates, batch);
              tally.record("claim-next", start);
              tally.count("statements");
              if (granted.isEmpty()) {
                tally.count("empty");
                return;
              }
              lease = granted.get(0).lease();
              for (int i = 1; i < granted.size(); i++) {
                claimedAhead.add(granted.get(i).lease());
              }
            }
            long releaseStart = System.nanoTime();
            boolean released = store.release(lease);
            tally.record("release", releaseStart);
            tally.count("statements");
            if (released) {
              tally.record("cycle", start);
              tally.count("ops");
            } else {
              tally.count("release refused");
            }
          };
        },
        probe);
  }

  private List<LeaseKey> keys(String lane) {
    return IntStream.range(0, options.keys())
        .mapToObj(i -> LeaseKey.of("bench:" + i, lane))
        .toList();
  }

  /** Registers the lease rows and refreshes planner statistics, so that runs start warm. */
  private static void prepare(PostgresLeaseStore store, List<LeaseKey> keys) {
    store.register(keys);
    store.jdbi().useHandle(h -> h.execute("vacuum analyze"));
  }

  private LoadRun.Result dbScheduler(
      ThrowawayDatabase db, PostgresLeaseStore store, LoadRun.Probe probe) throws Exception {
    printHeader("db-scheduler", PeerScenarios.BACKLOG + " due executions");
    // One connection more than threads, for its polling thread: the peer is not held back.
    try (HikariDataSource pool = pool(db, "db-scheduler", options.threads() + 1)) {
      PeerScenarios.prepareDbScheduler(pool);
      analyze(store).run();
      return PeerScenarios.dbScheduler(
          pool,
          options.threads(),
          options.warmupFor(),
          options.measureFor(),
          withStatements("db-scheduler", probe));
    }
  }

  /** {@code probe}, also collecting the window's statement statistics of {@code scenario}. */
  private LoadRun.Probe withStatements(String scenario, LoadRun.Probe probe) {
    List<StatementStats.Row> rows = new ArrayList<>();
    statements.put(scenario, rows);
    return StatementStats.around(probe, monitor, statementStats, rows);
  }

  /** Planner statistics as autovacuum would keep them in steady state. */
  private static LoadRun.Step analyze(PostgresLeaseStore store) {
    return () -> store.jdbi().useHandle(h -> h.execute("analyze"));
  }

  private void printHeader(String name, String what) {
    out.printf(
        Locale.ROOT,
        "%n-- %s: %d threads, %d s warm-up, %d s measured, %s, %s releases%n",
        name,
        options.threads(),
        options.warmupFor().toSeconds(),
        options.measureFor().toSeconds(),
        what,
        options.synchronousRelease() ? "synchronous" : "asynchronous");
    out.flush();
  }

  private LoadRun.Result measure(
      String name, PostgresLeaseStore store, LoadRun.LoopFactory factory, LoadRun.Probe probe)
      throws Exception {
    return measure(name, factory, analyze(store), probe);
  }

  private LoadRun.Result measure(
      String name, LoadRun.LoopFactory factory, LoadRun.Step afterSetup, LoadRun.Probe probe)
      throws Exception {
    printHeader(name, options.keys() + " keys");
    LoadRun run = new LoadRun(name, options.threads());
    current.set(run);
    try {
      // Planner statistics as autovacuum would keep them in steady state: right after the setup
      // they describe the table before it (for example no lease held at all), which can make
      // PostgreSQL pick a partial index over the primary key (see docs/benchmarks.md).
      return run.run(
          options.warmupFor(),
          options.measureFor(),
          factory,
          afterSetup,
          withStatements(name, probe));
    } finally {
      current.set(null);
    }
  }

  private static void dropQuietly(ThrowawayDatabase db) {
    try {
      db.close();
    } catch (SQLException e) {
      System.err.println(
          "changesync-benchmarks: could not drop database " + db.name() + ": " + e.getMessage());
    }
  }
}
