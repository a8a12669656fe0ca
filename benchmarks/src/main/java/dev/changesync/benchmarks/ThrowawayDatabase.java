package dev.changesync.benchmarks;

import static java.util.Objects.requireNonNull;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.Driver;

/**
 * A database of its own on the server a JDBC URL names, created for one benchmark run and dropped
 * at the end, so that a benchmark never reads or writes real data. {@link #close()} drops it {@code
 * WITH (FORCE)} (connections still open are terminated) and may be called more than once, from the
 * main thread and from a shutdown hook alike.
 */
final class ThrowawayDatabase implements AutoCloseable {

  private static final Pattern URL =
      Pattern.compile("^(jdbc:postgresql://[^/?]+)(?:/([^?]*))?(?:\\?(.*))?$");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String maintenanceUrl;
  private final String name;
  private final String url;
  private boolean dropped;

  private ThrowawayDatabase(String maintenanceUrl, String name, String url) {
    this.maintenanceUrl = maintenanceUrl;
    this.name = name;
    this.url = url;
  }

  /**
   * Creates {@code changesync_bench_<random>} on the server of {@code serverUrl}, connecting to the
   * database that URL names (or {@code postgres} when it names none) to do so.
   */
  static ThrowawayDatabase create(String serverUrl) throws SQLException {
    byte[] bytes = new byte[6];
    RANDOM.nextBytes(bytes);
    String name = "changesync_bench_" + HexFormat.of().formatHex(bytes);
    ThrowawayDatabase db =
        new ThrowawayDatabase(maintenanceUrl(serverUrl), name, urlFor(serverUrl, name));
    db.execute("create database " + name);
    return db;
  }

  /** {@code serverUrl} naming database {@code database} instead, parameters kept. */
  static String urlFor(String serverUrl, String database) {
    Matcher m = matcher(serverUrl);
    return m.group(1) + "/" + database + (m.group(3) == null ? "" : "?" + m.group(3));
  }

  /** {@code serverUrl}, or the same server's {@code postgres} database when it names none. */
  static String maintenanceUrl(String serverUrl) {
    Matcher m = matcher(serverUrl);
    return m.group(2) == null || m.group(2).isEmpty() ? urlFor(serverUrl, "postgres") : serverUrl;
  }

  /** {@code url} with any password masked, for output. */
  static String mask(String url) {
    return url.replaceAll("(?<=[?&]password=)[^&]*", "***");
  }

  private static Matcher matcher(String serverUrl) {
    requireNonNull(serverUrl, "serverUrl");
    Matcher m = URL.matcher(serverUrl);
    if (!m.matches() || Driver.parseURL(serverUrl, new Properties()) == null) {
      // The message does not repeat the URL: it may hold a password.
      throw new IllegalArgumentException(
          "--url: not a PostgreSQL JDBC URL of the form"
              + " jdbc:postgresql://HOST[:PORT]/[DATABASE][?user=...]");
    }
    return m;
  }

  String name() {
    return name;
  }

  /** A JDBC URL of this database, with the parameters (credentials) of the server URL. */
  String url() {
    return url;
  }

  /** Opens a plain connection to this database (for measurements beside the pool). */
  Connection connect() throws SQLException {
    return DriverManager.getConnection(url);
  }

  @Override
  public synchronized void close() throws SQLException {
    if (!dropped) {
      execute("drop database if exists " + name + " with (force)");
      dropped = true;
    }
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(maintenanceUrl);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
