package dev.changesync.benchmarks;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where the server's time goes, statement by statement, from {@code pg_stat_statements} when the
 * server preloads it ({@code shared_preload_libraries = 'pg_stat_statements'}); without it the
 * benchmark says so and prints no breakdown.
 */
final class StatementStats {

  /** One statement's totals over the measured window. */
  record Row(
      long calls,
      double execMillis,
      long walBytes,
      long walRecords,
      long sharedBlocksHit,
      long sharedBlocksDirtied,
      String query) {}

  private StatementStats() {}

  /** Creates the extension in the benchmark's database if the server can run it. */
  static boolean available(Connection monitor) {
    try (Statement s = monitor.createStatement()) {
      s.execute("create extension if not exists pg_stat_statements");
      s.executeQuery("select 1 from pg_stat_statements limit 1").close();
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  static void reset(Connection monitor) throws SQLException {
    try (Statement s = monitor.createStatement()) {
      s.execute("select pg_stat_statements_reset()");
    }
  }

  /** The statements run in this database since the reset, most server time first. */
  static List<Row> read(Connection monitor) throws SQLException {
    List<Row> rows = new ArrayList<>();
    try (Statement s = monitor.createStatement();
        ResultSet rs =
            s.executeQuery(
                """
                select calls, total_exec_time, wal_bytes, wal_records, shared_blks_hit,
                       shared_blks_dirtied, regexp_replace(query, '\\s+', ' ', 'g')
                  from pg_stat_statements
                 where dbid = (select oid from pg_database where datname = current_database())
                   and query not like '%pg_stat%' and query not like '%pg_wal_lsn_diff%'
                   and calls > 0
                 order by total_exec_time desc
                 limit 8
                """)) {
      while (rs.next()) {
        rows.add(
            new Row(
                rs.getLong(1),
                rs.getDouble(2),
                rs.getLong(3),
                rs.getLong(4),
                rs.getLong(5),
                rs.getLong(6),
                rs.getString(7)));
      }
    }
    return rows;
  }

  /**
   * A probe that also resets the statistics when the window starts and reads them when it ends,
   * into {@code into}. Without the extension it is {@code probe} as it is.
   */
  static LoadRun.Probe around(
      LoadRun.Probe probe, Connection monitor, boolean available, List<Row> into) {
    if (!available) {
      return probe;
    }
    boolean[] started = {false};
    return () -> {
      if (!started[0]) {
        started[0] = true;
        reset(monitor);
        return probe.sample();
      }
      var sample = probe.sample();
      into.addAll(read(monitor));
      return sample;
    };
  }

  /** A statement's text cut to {@code width} characters for one line. */
  static String shorten(String query, int width) {
    return Optional.ofNullable(query)
        .map(q -> q.length() <= width ? q : q.substring(0, width - 1) + "…")
        .orElse("");
  }
}
