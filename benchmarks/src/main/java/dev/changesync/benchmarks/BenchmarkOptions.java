package dev.changesync.benchmarks;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What to run, from the command line. Parsing validates eagerly and names the flag (or environment
 * variable) and the bad value.
 *
 * @param url JDBC URL of the server; the benchmark creates and drops its own database there
 * @param threads client threads, and the size of the connection pool
 * @param measureFor how long each scenario is measured
 * @param warmupFor how long each scenario runs before measuring starts
 * @param keys distinct lease keys per scenario
 * @param scenarios the scenarios to run, in {@link Scenario} order
 * @param synchronousRelease whether releases wait for their commit to reach disk (the store's
 *     default is not to)
 * @param heldPerThread the heartbeat scenario's sizes: leases each thread holds and renews with
 *     one statement, one run per size
 * @param claimBatch the claim-next scenario's leases claimed per statement, for all the threads
 *     of one process when above 1 (as a poller claims for a worker's free threads)
 */
record BenchmarkOptions(
    String url,
    int threads,
    Duration measureFor,
    Duration warmupFor,
    int keys,
    Set<Scenario> scenarios,
    boolean synchronousRelease,
    List<Integer> heldPerThread,
    int claimBatch) {

  /** Environment variable naming the server when {@code --url} is not given. */
  static final String URL_VARIABLE = "CHANGESYNC_DATABASE_URL";

  private static final Set<String> FLAGS =
      Set.of(
          "--url", "--threads", "--seconds", "--warmup", "--keys", "--scenario", "--release-commit",
          "--held", "--claim-batch");

  static final String USAGE =
      """
      Usage: java -jar changesync-benchmarks.jar [options]

        --url JDBC_URL      PostgreSQL server to benchmark (default: $CHANGESYNC_DATABASE_URL).
                            A throw-away database changesync_bench_<random> is created there,
                            migrated, and dropped at the end (also on Ctrl-C).
        --threads N         client threads = pool size (default 8)
        --seconds S         measured seconds per scenario (default 15)
        --warmup S          warm-up seconds per scenario, not measured (default 20; on 2 CPUs
                            the JIT compiles the client for the first 10-20 s)
        --keys K            distinct lease keys (default 10000; more than --threads)
        --scenario NAME     claim-release | heartbeat | claim-next | all (the three, the
                            default); the peers: jdbc-cycle (two plain JDBC UPDATEs) |
                            jdbc-audited (the same, the release writing an event row) |
                            shedlock (JdbcLockProvider lock+unlock) | db-scheduler
                            (lock-and-fetch executions) | peers (the three); a
                            comma-separated list runs several, each in this database
        --release-commit M  async | sync: whether releases wait for their commit to reach disk
                            (default async, as the store's default)
        --held N[,N...]     heartbeat: leases each thread holds and renews with one statement
                            (batched heartbeats), one run per size (default 1,100,1000)
        --claim-batch N     claim-next: above 1, the threads are one worker process's and a
                            thread with no claimed lease left claims the next N for them all
                            with one statement (as db-scheduler's poller fetches for its
                            threads); each lease is released on its own (default 1)
        --help              this text
      """;

  /** A benchmark scenario, by its command-line name. */
  enum Scenario {
    CLAIM_RELEASE("claim-release"),
    HEARTBEAT("heartbeat"),
    CLAIM_NEXT("claim-next"),
    JDBC_CYCLE("jdbc-cycle"),
    JDBC_AUDITED("jdbc-audited"),
    SHEDLOCK("shedlock"),
    DB_SCHEDULER("db-scheduler");

    /** changesync's own scenarios: {@code all}, and the default. */
    static final Set<Scenario> OWN = EnumSet.of(CLAIM_RELEASE, HEARTBEAT, CLAIM_NEXT);

    /** The peers it is compared with: {@code peers}. */
    static final Set<Scenario> PEERS = EnumSet.of(JDBC_CYCLE, SHEDLOCK, DB_SCHEDULER);

    private final String cliName;

    Scenario(String cliName) {
      this.cliName = cliName;
    }

    String cliName() {
      return cliName;
    }
  }

  BenchmarkOptions {
    requireNonNull(url, "url");
    requireNonNull(measureFor, "measureFor");
    requireNonNull(warmupFor, "warmupFor");
    if (scenarios.isEmpty()) {
      throw new IllegalArgumentException("scenarios must not be empty");
    }
    scenarios = Collections.unmodifiableSet(EnumSet.copyOf(scenarios));
    heldPerThread = List.copyOf(heldPerThread);
    if (heldPerThread.isEmpty()) {
      throw new IllegalArgumentException("heldPerThread must not be empty");
    }
    if (claimBatch < 1) {
      throw new IllegalArgumentException("claimBatch must be at least 1, was " + claimBatch);
    }
  }

  /** True when the arguments ask for the usage text. */
  static boolean wantsHelp(List<String> args) {
    return args.contains("--help") || args.contains("-h");
  }

  /**
   * Parses {@code --flag value} and {@code --flag=value} arguments.
   *
   * @throws IllegalArgumentException naming the flag and the bad value
   */
  static BenchmarkOptions parse(List<String> args, Map<String, String> env) {
    String url = env.get(URL_VARIABLE);
    String urlSource = URL_VARIABLE;
    int threads = 8;
    Duration measureFor = Duration.ofSeconds(15);
    Duration warmupFor = Duration.ofSeconds(20);
    int keys = 10_000;
    Set<Scenario> scenarios = Scenario.OWN;
    boolean synchronousRelease = false;
    List<Integer> held = List.of(1, 100, 1_000);
    int claimBatch = 1;

    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      String flag = arg;
      String value;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        flag = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      } else {
        value = i + 1 < args.size() ? args.get(i + 1) : null;
        i++;
      }
      if (!FLAGS.contains(flag)) {
        throw new IllegalArgumentException(
            "unknown option '" + arg + "' (--help lists the options)");
      }
      if (value == null) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      switch (flag) {
        case "--url" -> {
          url = value;
          urlSource = "--url";
        }
        case "--threads" -> threads = intAtLeast(flag, value, 1);
        case "--seconds" -> measureFor = Duration.ofSeconds(intAtLeast(flag, value, 1));
        case "--warmup" -> warmupFor = Duration.ofSeconds(intAtLeast(flag, value, 0));
        case "--keys" -> keys = intAtLeast(flag, value, 1);
        case "--scenario" -> scenarios = scenarios(value);
        case "--release-commit" -> {
          if (!value.equals("async") && !value.equals("sync")) {
            throw new IllegalArgumentException(
                "--release-commit must be async or sync, got '" + value + "'");
          }
          synchronousRelease = value.equals("sync");
        }
        case "--held" -> {
          List<Integer> sizes = new ArrayList<>();
          for (String size : value.split(",")) {
            sizes.add(intAtLeast(flag, size, 1));
          }
          held = sizes;
        }
        case "--claim-batch" -> claimBatch = intAtLeast(flag, value, 1);
        default -> throw new AssertionError(flag);
      }
    }
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException(
          "no database server: pass --url JDBC_URL or set " + URL_VARIABLE);
    }
    try {
      ThrowawayDatabase.maintenanceUrl(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage().replace("--url", urlSource), e);
    }
    if (keys <= threads) {
      // each heartbeat thread needs leases of its own.
      throw new IllegalArgumentException(
          "--keys (" + keys + ") must be greater than --threads (" + threads + ")");
    }
    if ((long) keys <= (long) threads * claimBatch) {
      // claim-next must always find free work (each thread holds at most --claim-batch leases).
      throw new IllegalArgumentException(
          "--keys ("
              + keys
              + ") must be greater than --threads × --claim-batch ("
              + threads
              + " × "
              + claimBatch
              + ")");
    }
    return new BenchmarkOptions(
        url,
        threads,
        measureFor,
        warmupFor,
        keys,
        scenarios,
        synchronousRelease,
        held,
        claimBatch);
  }

  private static Set<Scenario> scenarios(String value) {
    Set<Scenario> chosen = EnumSet.noneOf(Scenario.class);
    for (String name : value.split(",")) {
      String n = name.strip().toLowerCase(Locale.ROOT);
      if (n.equals("all")) {
        chosen.addAll(Scenario.OWN);
        continue;
      }
      if (n.equals("peers")) {
        chosen.addAll(Scenario.PEERS);
        continue;
      }
      Scenario match = null;
      for (Scenario s : Scenario.values()) {
        if (s.cliName().equals(n)) {
          match = s;
        }
      }
      if (match == null) {
        throw new IllegalArgumentException(
            "--scenario: unknown scenario '"
                + name
                + "' (claim-release, heartbeat, claim-next, all, jdbc-cycle, jdbc-audited, shedlock,"
                + " db-scheduler or peers)");
      }
      chosen.add(match);
    }
    return chosen;
  }

  private static int intAtLeast(String flag, String value, int min) {
    int parsed;
    try {
      parsed = Integer.parseInt(value.strip().replace("_", "").replace(",", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be a whole number, got '" + value + "'", e);
    }
    if (parsed < min) {
      throw new IllegalArgumentException(flag + " must be at least " + min + ", got " + parsed);
    }
    return parsed;
  }
}
