package dev.changesync.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.sync.SyncSettings;
import dev.changesync.engine.sync.WorkKind;
import dev.changesync.engine.sync.WorkPicking;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.jdbi.v3.core.Jdbi;

/**
 * Work picking at scale: {@link ScaleSeed}'s mix of tracked repositories (100,000 by default) and
 * 1, 2, 4 and 8 workers picking concurrently, each with its own owner and {@link WorkPicking} (its
 * own pick order), exactly as a worker's loop picks. A pick is one call of {@link
 * WorkPicking#next}: every kind of work in the worker's order until one grants a lease. The lease
 * is released at once (no pass runs), so the seeded state stays the same and every pick looks at
 * the same mix.
 *
 * <p>Each pick is checked against the invariants, and the run fails when one breaks:
 *
 * <ul>
 *   <li>no repository whose lease is held by another worker ({@code id % 1000} in 80-84, held by
 *       {@link ScaleSeed#FOREIGN_OWNER} for an hour) is picked;
 *   <li>no repository whose lanes' retry-after lies ahead ({@code id % 1000} in 60-79) is picked;
 *   <li>no repository read under a GitHub credential whose rate limit is used up until an hour
 *       from now ({@code id % 1000} in 107-111) is picked;
 *   <li>no lease is picked by two workers at once (a shared map of the leases picked and not yet
 *       released, keyed by resource and lane).
 * </ul>
 *
 * <p>Prints, per worker count, picks per second, pick latency p50 / p99 / p99.9 and the picks by
 * kind, then one {@code RESULT} line each (read by {@code benchmarks/scale.sh}). Run by {@code
 * benchmarks/scale.sh}; results in docs/benchmarks.md, "Work picking at 100,000 repositories".
 */
public final class ScaleBenchmark {

  private final ScaleOptions options;
  private final PrintStream out;

  private ScaleBenchmark(ScaleOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  public static void main(String[] args) {
    ScaleOptions options;
    try {
      options = ScaleOptions.parse(List.of(args), System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("changesync-scale: " + e.getMessage());
      System.err.print(ScaleOptions.USAGE);
      System.exit(2);
      return;
    }
    if (options == null) {
      System.out.print(ScaleOptions.USAGE);
      return;
    }
    try {
      int violations = run(options, System.out);
      if (violations > 0) {
        System.err.println("changesync-scale: " + violations + " invariant violation(s)");
        System.exit(1);
      }
    } catch (Exception e) {
      System.err.println("changesync-scale: failed: " + e);
      e.printStackTrace();
      System.exit(1);
    }
  }

  /**
   * Seeds a throw-away database and runs every worker count of {@code options}, printing to {@code
   * out}; returns the invariant violations and failed picks seen.
   */
  static int run(ScaleOptions options, PrintStream out) throws Exception {
    return new ScaleBenchmark(options, out).run();
  }

  private int run() throws Exception {
    int violations = 0;
    try (ThrowawayDatabase db = ThrowawayDatabase.create(options.url())) {
      out.printf(
          Locale.ROOT,
          "changesync scale benchmark: %,d repositories in database %s%n",
          options.repositories(),
          db.name());
      int maxWorkers = options.workers().stream().mapToInt(Integer::intValue).max().orElseThrow();
      try (HikariDataSource pool = pool(db, Math.max(2, maxWorkers))) {
        Migrations.migrate(pool);
        Jdbi jdbi = Jdbi.create(pool);
        long seedStart = System.nanoTime();
        jdbi.useHandle(h -> h.createScript(ScaleSeed.sql(options.repositories())).execute());
        jdbi.useHandle(h -> h.execute("vacuum analyze"));
        out.printf(
            Locale.ROOT,
            "seeded and analyzed in %.1f s%n",
            (System.nanoTime() - seedStart) / 1e9);
        PostgresLeaseStore store = PostgresLeaseStore.builder(pool).build();
        List<String> results = new ArrayList<>();
        for (int workers : options.workers()) {
          Outcome outcome = measure(store, workers);
          violations += outcome.violations();
          results.add(outcome.resultLine());
        }
        out.println();
        results.forEach(out::println);
      }
    }
    return violations;
  }

  private record Outcome(int violations, String resultLine) {}

  private Outcome measure(PostgresLeaseStore store, int workers) throws Exception {
    out.printf(
        Locale.ROOT,
        "%n-- %d worker(s): %d s warm-up, %d s measured%n",
        workers,
        options.warmupFor().toSeconds(),
        options.measureFor().toSeconds());
    out.flush();
    SyncSettings settings = SyncSettings.defaults();
    Map<String, String> picked = new ConcurrentHashMap<>();
    AtomicLong violations = new AtomicLong();
    List<String> firstViolations = new ArrayList<>();
    LoadRun run = new LoadRun("scale-" + workers, workers);
    LoadRun.Result result =
        run.run(
            options.warmupFor(),
            options.measureFor(),
            index -> {
              OwnerId owner = OwnerId.newIncarnation("scale-" + index);
              WorkPicking picking = new WorkPicking(store, settings);
              return tally -> {
                long start = System.nanoTime();
                Optional<WorkPicking.Pick> pick = picking.next(owner);
                tally.record("pick", start);
                pick.ifPresent(p -> tally.record(p.kind().name(), start));
                if (pick.isEmpty()) {
                  tally.count("empty");
                  return;
                }
                var lease = pick.get().lease();
                String key = lease.key().resource() + "/" + lease.key().lane();
                String broken = broken(lease.key().resource());
                String other = picked.putIfAbsent(key, owner.toString());
                if (other != null) {
                  broken = "picked by " + owner + " while " + other + " had it";
                }
                if (broken != null) {
                  violations.incrementAndGet();
                  synchronized (firstViolations) {
                    if (firstViolations.size() < 5) {
                      firstViolations.add(key + ": " + broken);
                    }
                  }
                }
                tally.count("ops");
                tally.count(pick.get().kind().name());
                if (other == null) {
                  picked.remove(key);
                }
                store.release(lease);
              };
            },
            () -> {},
            Map::of);
    LoadRun.Tally tally = result.tally();
    Histogram pickLatency = tally.latency("pick");
    double perSecond = result.perSecond("ops");
    out.printf(
        Locale.ROOT,
        "   picks/s %.0f, pick latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms;"
            + " empty picks %d, errors %d%n",
        perSecond,
        ms(pickLatency, 50),
        ms(pickLatency, 99),
        ms(pickLatency, 99.9),
        pickLatency == null ? 0 : pickLatency.getMaxValue() / 1000.0,
        tally.count("empty", 0),
        result.errors());
    for (WorkKind kind : WorkKind.values()) {
      Histogram byKind = tally.latency(kind.name());
      out.printf(
          Locale.ROOT,
          "   %-15s %7d picks, p50 %.2f ms, p99 %.2f ms%n",
          kind.name().toLowerCase(Locale.ROOT),
          tally.count(kind.name(), 0),
          ms(byKind, 50),
          ms(byKind, 99));
    }
    out.printf(Locale.ROOT, "   invariant violations: %d%n", violations.get());
    firstViolations.forEach(v -> out.println("   VIOLATION " + v));
    String line =
        String.format(
            Locale.ROOT,
            "RESULT workers=%d picks_per_s=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f"
                + " empty=%d errors=%d violations=%d",
            workers,
            perSecond,
            ms(pickLatency, 50),
            ms(pickLatency, 99),
            ms(pickLatency, 99.9),
            tally.count("empty", 0),
            result.errors(),
            violations.get());
    int broken = (int) Math.min(Integer.MAX_VALUE, violations.get() + result.errors());
    return new Outcome(broken, line);
  }

  /**
   * Why {@code resource} ({@code repo:<id>}) must never be picked in {@link ScaleSeed}'s mix, or
   * null when it may be.
   */
  static String broken(String resource) {
    long id = Long.parseLong(resource.substring(resource.indexOf(':') + 1));
    long b = id % 1000;
    if (b >= 60 && b <= 79) {
      return "its retry-after lies an hour ahead";
    }
    if (b >= 80 && b <= 84) {
      return "its lease is held by " + ScaleSeed.FOREIGN_OWNER;
    }
    if (b >= 107 && b <= 111) {
      return "its credential " + ScaleSeed.EXHAUSTED_CREDENTIAL + " is used up until its reset";
    }
    return null;
  }

  private static double ms(Histogram h, double percentile) {
    return h == null ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
  }

  private static HikariDataSource pool(ThrowawayDatabase db, int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(db.url());
    config.setPoolName("changesync-scale");
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(size);
    // As a worker's pool (OwnedPools' worker guards): no JIT compilation of picking queries.
    config.setConnectionInitSql("set jit = off");
    return new HikariDataSource(config);
  }

  /** Options of {@link ScaleBenchmark}; {@link #parse} returns null for {@code --help}. */
  record ScaleOptions(
      String url, int repositories, List<Integer> workers, Duration measureFor,
      Duration warmupFor) {

    static final String USAGE =
        """
        Usage: java -cp changesync-benchmarks.jar dev.changesync.benchmarks.ScaleBenchmark [options]

          --url JDBC_URL        PostgreSQL server (default: $CHANGESYNC_DATABASE_URL); a throw-away
                                database is created there, seeded and dropped at the end
          --repositories N      tracked repositories seeded (default 100000)
          --workers N[,N...]    concurrent workers, one run per count (default 1,2,4,8)
          --seconds S           measured seconds per run (default 15)
          --warmup S            warm-up seconds per run, not measured (default 10)
          --help                this text
        """;

    static ScaleOptions parse(List<String> args, Map<String, String> env) {
      String url = env.get(BenchmarkOptions.URL_VARIABLE);
      int repositories = 100_000;
      List<Integer> workers = List.of(1, 2, 4, 8);
      int seconds = 15;
      int warmup = 10;
      for (int i = 0; i < args.size(); i++) {
        String flag = args.get(i);
        if (flag.equals("--help") || flag.equals("-h")) {
          return null;
        }
        if (i + 1 >= args.size()) {
          throw new IllegalArgumentException(flag + " needs a value");
        }
        String value = args.get(++i);
        switch (flag) {
          case "--url" -> url = value;
          case "--repositories" -> repositories = atLeast(flag, value, 1_000);
          case "--workers" -> {
            List<Integer> counts = new ArrayList<>();
            for (String n : value.split(",")) {
              counts.add(atLeast(flag, n, 1));
            }
            workers = List.copyOf(counts);
          }
          case "--seconds" -> seconds = atLeast(flag, value, 1);
          case "--warmup" -> warmup = atLeast(flag, value, 0);
          default ->
              throw new IllegalArgumentException(
                  "unknown option '" + flag + "' (--help lists the options)");
        }
      }
      if (url == null || url.isBlank()) {
        throw new IllegalArgumentException(
            "no database server: pass --url JDBC_URL or set " + BenchmarkOptions.URL_VARIABLE);
      }
      ThrowawayDatabase.maintenanceUrl(url);
      return new ScaleOptions(
          url, repositories, workers, Duration.ofSeconds(seconds), Duration.ofSeconds(warmup));
    }

    private static int atLeast(String flag, String value, int min) {
      int parsed;
      try {
        parsed = Integer.parseInt(value.strip().replace("_", ""));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            flag + " must be a whole number, got '" + value + "'", e);
      }
      if (parsed < min) {
        throw new IllegalArgumentException(flag + " must be at least " + min + ", got " + parsed);
      }
      return parsed;
    }
  }
}
