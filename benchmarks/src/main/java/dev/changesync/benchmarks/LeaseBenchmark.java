package dev.changesync.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
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
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.HdrHistogram.Histogram;

/**
 * Throughput and latency of {@link PostgresLeaseStore} against a real PostgreSQL server, for
 * comparison with {@code pg-limit.sh} (one conditional single-row UPDATE per transaction, as fast as
 * the server can go):
 *
 * <ul>
 *   <li><b>claim-release</b>: each thread claims a random key of {@code --keys} and, when granted,
 *       releases it at once. One cycle is two statements (claim, release).
 *   <li><b>heartbeat</b>: each thread holds {@code keys / threads} leases of its own and heartbeats
 *       random ones. One heartbeat is one statement.
 *   <li><b>claim-next</b>: {@code --keys} registered keys; each thread claims the next claimable
 *       one ({@code FOR UPDATE SKIP LOCKED}) in a fixed order and releases it at once, so all
 *       threads fight over the head of the queue. Each thread holds at most one lease, so work
 *       always exists: every empty claim-next counts as "empty while work existed".
 * </ul>
 *
 * <p>Everything runs in a throw-away database ({@link ThrowawayDatabase}) that is migrated with
 * {@link Migrations} and dropped at the end, also on Ctrl-C. Lease rows are registered up front,
 * so the measured window sees the steady state (rows exist) as pg-limit.sh does. The store uses
 * database time and no liveness, as built by {@code PostgresLeaseStore.builder(dataSource).build()}.
 */
public final class LeaseBenchmark {

  private static final LeasePolicy POLICY = LeasePolicy.defaults();
  private static final double TARGET_RATIO = 0.4;
  /** Above this share of the machine going to other processes, a scenario's figures are noisy. */
  private static final int OTHER_LOAD_WARNING_PERCENT = 15;

  private final BenchmarkOptions options;
  private final PrintStream out;
  private final AtomicReference<LoadRun> current = new AtomicReference<>();
  private volatile boolean stopping;

  private LeaseBenchmark(BenchmarkOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
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
      printServer(monitor);
      LoadRun.Probe probe = () -> sample(monitor);
      for (Scenario scenario : options.scenarios()) {
        LoadRun.Result result =
            switch (scenario) {
              case CLAIM_RELEASE -> claimRelease(store, probe);
              case HEARTBEAT -> heartbeat(store, probe);
              case CLAIM_NEXT -> claimNext(store, probe);
            };
        if (stopping) {
          // Ctrl-C: the figures of an aborted run mean nothing.
          System.err.println("changesync-benchmarks: interrupted, dropping the benchmark database");
          return;
        }
        printScenario(result);
        results.add(result);
      }
    }
    printSummary(results);
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

  private LoadRun.Result heartbeat(PostgresLeaseStore store, LoadRun.Probe probe)
      throws Exception {
    List<LeaseKey> keys = keys("heartbeat");
    prepare(store, keys);
    int threads = options.threads();
    return measure(
        "heartbeat",
        store,
        index -> {
          // Setup, on the client thread: claim this thread's share of the keys.
          OwnerId owner = OwnerId.newIncarnation("bench-" + index);
          List<Lease> held = new ArrayList<>();
          for (int k = index; k < keys.size(); k += threads) {
            ClaimResult claim = store.claim(keys.get(k), owner, POLICY);
            held.add(
                claim
                    .granted()
                    .orElseThrow(() -> new IllegalStateException("setup claim refused: " + claim)));
          }
          return tally -> {
            int i = ThreadLocalRandom.current().nextInt(held.size());
            long start = System.nanoTime();
            HeartbeatResult result = store.heartbeat(held.get(i));
            tally.record("heartbeat", start);
            tally.count("statements");
            if (result instanceof HeartbeatResult.Renewed renewed) {
              held.set(i, renewed.lease());
              tally.count("ops");
            } else {
              tally.count("lost");
              ClaimResult again = store.claim(held.get(i).key(), owner, POLICY);
              again.granted().ifPresent(lease -> held.set(i, lease));
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
    PostgresLeaseStore.Candidates candidates =
        PostgresLeaseStore.Candidates.of("select resource from bench_candidate", "c.resource");
    return measure(
        "claim-next",
        store,
        index -> {
          OwnerId owner = OwnerId.newIncarnation("bench-" + index);
          return tally -> {
            long start = System.nanoTime();
            Optional<ClaimResult.Granted> granted =
                store.claimNext(lane, owner, POLICY, candidates);
            long claimed = tally.record("claim-next", start);
            tally.count("statements");
            if (granted.isEmpty()) {
              tally.count("empty");
              return;
            }
            boolean released = store.release(granted.get().lease());
            tally.record("release", claimed);
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

  private LoadRun.Result measure(
      String name, PostgresLeaseStore store, LoadRun.LoopFactory factory, LoadRun.Probe probe)
      throws Exception {
    out.printf(
        Locale.ROOT,
        "%n-- %s: %d threads, %d s warm-up, %d s measured, %d keys, %s releases%n",
        name,
        options.threads(),
        options.warmupFor().toSeconds(),
        options.measureFor().toSeconds(),
        options.keys(),
        options.synchronousRelease() ? "synchronous" : "asynchronous");
    out.flush();
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
          () -> store.jdbi().useHandle(h -> h.execute("analyze")),
          probe);
    } finally {
      current.set(null);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Probes
  // ---------------------------------------------------------------------------------------------

  /**
   * WAL written (whole server) and CPU time: this JVM's, and — read from {@code /proc} when the
   * server runs on this machine — the ticks of the PostgreSQL backends serving this database, of
   * this JVM, and of the whole machine (busy and total), so that the report can tell how much of
   * the machine went to something else.
   */
  private static Map<String, Long> sample(Connection monitor) throws SQLException {
    Map<String, Long> values = new LinkedHashMap<>();
    List<Long> backends = new ArrayList<>();
    try (Statement s = monitor.createStatement();
        ResultSet rs =
            s.executeQuery(
                """
                select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint, pid
                  from pg_stat_activity
                 where datname = current_database() and pid <> pg_backend_pid()
                """)) {
      while (rs.next()) {
        values.put("wal_bytes", rs.getLong(1));
        backends.add(rs.getLong(2));
      }
    }
    values.put("client_cpu_ns", clientCpuNanos());
    values.put("wall_ns", System.nanoTime());
    machineTicks()
        .ifPresent(
            t -> {
              values.put("machine_busy_ticks", t[0]);
              values.put("machine_total_ticks", t[1]);
              processTicks("self").ifPresent(ticks -> values.put("jvm_ticks", ticks));
              long backendTicks = 0;
              for (long pid : backends) {
                backendTicks += processTicks(Long.toString(pid)).orElse(0L);
              }
              values.put("backend_ticks", backendTicks);
            });
    return values;
  }

  private static long clientCpuNanos() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun
        ? sun.getProcessCpuTime()
        : -1;
  }

  /** Busy and total ticks of all CPUs from the first line of /proc/stat. */
  private static Optional<long[]> machineTicks() {
    try {
      String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = line.trim().split("\\s+");
      // cpu user nice system idle iowait irq softirq steal ...
      long total = 0;
      for (int i = 1; i < Math.min(f.length, 9); i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return Optional.of(new long[] {total - idle, total});
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** User + system ticks of a process from /proc/PID/stat (empty when not on this machine). */
  private static Optional<Long> processTicks(String pid) {
    try {
      String stat = Files.readString(Path.of("/proc", pid, "stat"));
      // pid (comm) state ppid ... : utime and stime are fields 14 and 15.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Optional.of(Long.parseLong(f[11]) + Long.parseLong(f[12]));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Output
  // ---------------------------------------------------------------------------------------------

  private void printServer(Connection monitor) throws SQLException {
    List<String> settings = new ArrayList<>();
    try (Statement s = monitor.createStatement();
        ResultSet rs =
            s.executeQuery(
                """
                select name, setting, unit from pg_settings
                 where name in ('fsync', 'synchronous_commit', 'wal_sync_method',
                                'shared_buffers', 'commit_delay', 'max_connections')
                 order by name
                """)) {
      while (rs.next()) {
        String unit = rs.getString(3);
        settings.add(rs.getString(1) + "=" + rs.getString(2) + (unit == null ? "" : " " + unit));
      }
    }
    try (Statement s = monitor.createStatement();
        ResultSet rs = s.executeQuery("show server_version")) {
      rs.next();
      out.printf(
          Locale.ROOT,
          "server: PostgreSQL %s, %s; client: %d CPUs, Java %s%n",
          rs.getString(1),
          String.join(", ", settings),
          Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.version"));
    }
  }

  private void printScenario(LoadRun.Result r) {
    LoadRun.Tally t = r.tally();
    double seconds = r.measuredFor().toNanos() / 1e9;
    out.printf(
        Locale.ROOT,
        "   setup %.1f s; measured %.1f s: %s %.1f/s, statements %.1f/s, errors %d%n",
        r.setupTook().toNanos() / 1e9,
        seconds,
        opName(r.name()),
        r.perSecond("ops"),
        r.perSecond("statements"),
        r.errors());
    out.printf(
        Locale.ROOT,
        "   %-12s %9s %9s %9s %9s %9s %10s%n",
        "latency ms",
        "mean",
        "p50",
        "p99",
        "p99.9",
        "max",
        "count");
    for (String what : List.of("cycle", "claim", "claim-next", "release", "heartbeat")) {
      Histogram h = t.latency(what);
      if (h != null) {
        out.printf(
            Locale.ROOT,
            "   %-12s %9.2f %9.2f %9.2f %9.2f %9.2f %10d%n",
            what,
            h.getMean() / 1000,
            ms(h, 50),
            ms(h, 99),
            ms(h, 99.9),
            h.getMaxValue() / 1000.0,
            h.getTotalCount());
      }
    }
    long statements = t.count("statements", 0);
    switch (r.name()) {
      case "claim-release" -> out.printf(
          Locale.ROOT,
          "   held claims: %d (%.3f %% of claims); releases refused: %d%n",
          t.count("held", 0),
          percent(t.count("held", 0), t.count("held", 0) + t.count("ops", 0)),
          t.count("release refused", 0));
      case "heartbeat" -> out.printf(
          Locale.ROOT, "   heartbeats lost: %d%n", t.count("lost", 0));
      case "claim-next" -> out.printf(
          Locale.ROOT,
          "   claim-next returned empty while work existed: %d (%.3f %% of claim-next calls);"
              + " releases refused: %d%n",
          t.count("empty", 0),
          percent(t.count("empty", 0), t.count("empty", 0) + t.count("ops", 0)),
          t.count("release refused", 0));
      default -> {}
    }
    Map<String, Long> d = r.probeDeltas();
    long ops = Math.max(1, t.count("ops", 0));
    double wallNanos = d.getOrDefault("wall_ns", r.measuredFor().toNanos());
    int cpus = Runtime.getRuntime().availableProcessors();
    StringBuilder line = new StringBuilder();
    line.append(
        String.format(
            Locale.ROOT,
            "   WAL %.0f B per %s, %.0f B per statement",
            (double) d.getOrDefault("wal_bytes", 0L) / ops,
            opName(r.name()),
            (double) d.getOrDefault("wal_bytes", 0L) / Math.max(1, statements)));
    if (d.getOrDefault("client_cpu_ns", -1L) >= 0) {
      line.append(
          String.format(
              Locale.ROOT,
              "; benchmark JVM CPU %.0f %% of %d CPUs (%.0f µs per %s)",
              100.0 * d.get("client_cpu_ns") / (wallNanos * cpus),
              cpus,
              d.get("client_cpu_ns") / 1000.0 / ops,
              opName(r.name())));
    }
    long total = d.getOrDefault("machine_total_ticks", 0L);
    if (total > 0) {
      long busy = d.get("machine_busy_ticks");
      long jvm = d.getOrDefault("jvm_ticks", 0L);
      long backends = d.getOrDefault("backend_ticks", 0L);
      long other = Math.max(0, busy - jvm - backends);
      line.append(
          String.format(
              Locale.ROOT,
              "%n   machine CPU: busy %.0f %% = this JVM %.0f %% + its PostgreSQL backends %.0f %%"
                  + " (%.0f µs per %s) + everything else %.0f %% (WAL writer, kernel, other"
                  + " processes)",
              100.0 * busy / total,
              100.0 * jvm / total,
              100.0 * backends / total,
              backends * 1e6 / ticksPerSecond(d) / ops,
              opName(r.name()),
              100.0 * other / total));
      if (other * 100 > total * OTHER_LOAD_WARNING_PERCENT) {
        line.append(
            String.format(
                Locale.ROOT,
                "%n   WARNING: %.0f %% of the machine went to other work during the window;"
                    + " the figures are noisy, run again on a quiet machine",
                100.0 * other / total));
      }
    }
    out.println(line);
    out.flush();
  }

  private void printSummary(List<LoadRun.Result> results) {
    out.printf(Locale.ROOT, "%n== summary (%d threads, %d keys) ==%n", options.threads(),
        options.keys());
    out.printf(
        Locale.ROOT,
        "%-15s %10s %12s %9s %9s %9s %9s%n",
        "scenario",
        "ops/s",
        "statements/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms");
    for (LoadRun.Result r : results) {
      Histogram h = r.tally().latency(r.name().equals("heartbeat") ? "heartbeat" : "cycle");
      out.printf(
          Locale.ROOT,
          "%-15s %10.1f %12.1f %9.2f %9.2f %9.2f %9.2f%n",
          label(r.name()),
          r.perSecond("ops"),
          r.perSecond("statements"),
          ms(h, 50),
          ms(h, 99),
          ms(h, 99.9),
          h == null ? Double.NaN : h.getMaxValue() / 1000.0);
    }
    out.println(
        "(ops: claim+release and claim-next+release cycles, renewed heartbeats;"
            + " latency per op, a cycle timed from claim start to release end)");
    for (LoadRun.Result r : results) {
      Histogram h = r.tally().latency(r.name().equals("heartbeat") ? "heartbeat" : "cycle");
      out.printf(
          Locale.ROOT,
          "RESULT scenario=%s threads=%d keys=%d seconds=%.1f ops_per_s=%.1f"
              + " statements_per_s=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f"
              + " held=%d empty=%d errors=%d%n",
          r.name(),
          r.threads(),
          options.keys(),
          r.measuredFor().toNanos() / 1e9,
          r.perSecond("ops"),
          r.perSecond("statements"),
          ms(h, 50),
          ms(h, 99),
          ms(h, 99.9),
          h == null ? Double.NaN : h.getMaxValue() / 1000.0,
          r.tally().count("held", 0),
          r.tally().count("empty", 0),
          r.errors());
    }
    if (options.pgLimitTps().isPresent()) {
      double limit = options.pgLimitTps().getAsDouble();
      out.printf(Locale.ROOT, "%npg-limit tps (given): %.1f%n", limit);
      for (LoadRun.Result r : results) {
        double ratio = r.perSecond("ops") / limit;
        if (r.name().equals("claim-release")) {
          out.printf(
              Locale.ROOT,
              "claim+release cycles/s / pg-limit tps = %.3f (target >= %.1f: %s)%n",
              ratio,
              TARGET_RATIO,
              ratio >= TARGET_RATIO ? "met" : "MISSED");
        } else {
          out.printf(
              Locale.ROOT, "%s %s/s / pg-limit tps = %.3f%n", r.name(), opName(r.name()), ratio);
        }
      }
    }
    out.flush();
  }

  private static String opName(String scenario) {
    return switch (scenario) {
      case "heartbeat" -> "heartbeat";
      case "claim-next" -> "claim-next cycle";
      default -> "cycle";
    };
  }

  private static String label(String scenario) {
    return switch (scenario) {
      case "claim-release" -> "claim+release";
      case "claim-next" -> "claim-next+rel";
      default -> scenario;
    };
  }

  /** Clock ticks per second, from the machine's total ticks over the window (all CPUs count). */
  private static double ticksPerSecond(Map<String, Long> d) {
    double seconds = d.getOrDefault("wall_ns", 1L) / 1e9;
    return d.get("machine_total_ticks") / seconds / Runtime.getRuntime().availableProcessors();
  }

  private static double ms(Histogram h, double percentile) {
    return h == null ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
  }

  private static double percent(long part, long whole) {
    return whole == 0 ? 0 : 100.0 * part / whole;
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
