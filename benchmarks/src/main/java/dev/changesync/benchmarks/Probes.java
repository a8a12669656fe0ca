package dev.changesync.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What a benchmark samples at the start and the end of its measured window. */
final class Probes {

  private Probes() {}


  /**
   * WAL written (whole server) and CPU time: this JVM's, and — read from {@code /proc} when the
   * server runs on this machine — the ticks of the PostgreSQL backends serving this database, of
   * this JVM, and of the whole machine (busy and total), so that the report can tell how much of
   * the machine went to something else.
   */
  static Map<String, Long> sample(Connection monitor) throws SQLException {
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
}
