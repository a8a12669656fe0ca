package dev.changesync.benchmarks;

import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** What a benchmark run prints: the server, each scenario as it ends, and a summary. */
final class Report {

  /** Above this share of the machine going to other processes, a scenario's figures are noisy. */
  private static final int OTHER_LOAD_WARNING_PERCENT = 15;

  private final PrintStream out;
  private final BenchmarkOptions options;

  Report(PrintStream out, BenchmarkOptions options) {
    this.out = out;
    this.options = options;
  }


  void server(Connection monitor) throws SQLException {
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

  void scenario(LoadRun.Result r, List<StatementStats.Row> breakdown) {
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
    switch (r.name().startsWith("heartbeat-") ? "heartbeat" : r.name()) {
      case "claim-release", "jdbc-cycle", "jdbc-audited", "shedlock" -> out.printf(
          Locale.ROOT,
          "   held claims: %d (%.3f %% of claims); releases refused: %d%n",
          t.count("held", 0),
          percent(t.count("held", 0), t.count("held", 0) + t.count("ops", 0)),
          t.count("release refused", 0));
      case "heartbeat" -> out.printf(
          Locale.ROOT,
          "   heartbeats lost: %d; leases renewed per statement: %.1f%n",
          t.count("lost", 0),
          (double) t.count("ops", 0) / Math.max(1, statements));
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
            "   WAL %.0f B per %s",
            (double) d.getOrDefault("wal_bytes", 0L) / ops,
            opName(r.name())));
    if (statements > 0) {
      line.append(
          String.format(
              Locale.ROOT,
              ", %.0f B per statement",
              (double) d.getOrDefault("wal_bytes", 0L) / statements));
    }
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
    if (!breakdown.isEmpty()) {
      out.printf(
          Locale.ROOT,
          "   %-9s %9s %10s %9s %8s %8s  %s%n",
          "per " + (opName(r.name()).length() > 9 ? "op" : opName(r.name())),
          "calls",
          "exec µs",
          "WAL B",
          "WAL rec",
          "dirtied",
          "statement (pg_stat_statements, server time per call)");
      for (StatementStats.Row s : breakdown) {
        double calls = Math.max(1, s.calls());
        out.printf(
            Locale.ROOT,
            "   %-9s %9.3f %10.1f %9.0f %8.2f %8.3f  %s%n",
            "",
            s.calls() / (double) ops,
            s.execMillis() * 1000 / calls,
            s.walBytes() / calls,
            s.walRecords() / calls,
            s.sharedBlocksDirtied() / calls,
            StatementStats.shorten(s.query(), 90));
      }
    }
    out.flush();
  }

  void summary(List<LoadRun.Result> results) {
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
      Histogram h = r.tally().latency(r.name().startsWith("heartbeat") ? "heartbeat" : "cycle");
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
      Histogram h = r.tally().latency(r.name().startsWith("heartbeat") ? "heartbeat" : "cycle");
      out.printf(
          Locale.ROOT,
          "RESULT scenario=%s release_commit=%s threads=%d keys=%d seconds=%.1f ops_per_s=%.1f"
              + " statements_per_s=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f"
              + " held=%d empty=%d errors=%d%n",
          r.name(),
          options.synchronousRelease() ? "sync" : "async",
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
    out.flush();
  }

  private static String opName(String scenario) {
    if (scenario.startsWith("heartbeat")) {
      return "lease renewed";
    }
    return switch (scenario) {
      case "claim-next" -> "claim-next cycle";
      case "db-scheduler" -> "execution";
      case "shedlock" -> "lock+unlock";
      default -> "cycle";
    };
  }

  private static String label(String scenario) {
    return switch (scenario) {
      case "claim-release" -> "claim+release";
      case "claim-next" -> "claim-next+rel";
      case "jdbc-cycle" -> "plain JDBC";
      case "jdbc-audited" -> "JDBC+audit";
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
}
