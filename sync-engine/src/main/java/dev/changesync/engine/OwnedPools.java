package dev.changesync.engine;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.changesync.engine.sync.SyncSettings;
import dev.changesync.lease.LeasePolicy;
import java.time.Duration;
import java.util.Optional;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The connection pools changesync opens for itself when it is given a JDBC URL, one per kind of
 * user, so that none of them can starve another:
 *
 * <ul>
 *   <li>{@code changesync-service}: the given number of connections (by default {@value
 *       #SERVICE_CONNECTIONS}; {@code CHANGESYNC_DATABASE_POOL_SIZE}) for the services —
 *       HTTP requests, CLI commands, webhook intake, readiness checks. A burst of status requests
 *       queues here, never in front of a worker's claim or heartbeat.
 *   <li>{@code changesync-worker} (workers only): one connection per worker thread and {@value
 *       #WORKER_SUPPORT_CONNECTIONS} for the worker's maintenance — claims, passes and their guarded
 *       writes, releases, recovery — with the guards of {@link #workerGuards}: a worker frozen
 *       inside a transaction loses it before its lease could be reclaimed.
 *   <li>{@code changesync-heartbeat} (workers only): one connection per worker thread, all kept
 *       open, used by heartbeats alone. Each has a statement timeout of half of stale-after (a
 *       heartbeat stuck on a row lock gives up) and a socket timeout below stale-after (so does one
 *       on a connection whose server has gone silent), so that the next heartbeat tries again on a
 *       fresh connection before the lease could be reclaimed. Whatever a heartbeat does, the lease
 *       runner's own deadline still cancels the work at stale-after.
 *   <li>The liveness lock's connection: a plain connection outside every pool.
 * </ul>
 *
 * Every connection uses TCP keepalive, so a vanished database host is noticed by the operating
 * system rather than never.
 */
final class OwnedPools implements AutoCloseable {

  /** Connections of the service pool when no size is given. */
  static final int SERVICE_CONNECTIONS = 4;

  /** Connections of the worker pool beside one per worker thread: maintenance and recovery. */
  static final int WORKER_SUPPORT_CONNECTIONS = 2;

  /**
   * The liveness connection's socket timeout: above the session's own checks (it waits 100 ms at
   * a time for notifications and asks the server every 100 ms to 10 s), below the time a dead
   * server would otherwise take to be noticed (TCP retransmission, about 15 minutes).
   */
  static final int LIVENESS_SOCKET_TIMEOUT_SECONDS = 30;

  /** How long a pool waits for a free connection before the caller gets an error. */
  static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(5);

  /** HikariCP's least connection timeout. */
  private static final Duration LEAST_CONNECTION_TIMEOUT = Duration.ofMillis(250);

  private final String jdbcUrl;
  private final String user;
  private final String password;
  private final HikariDataSource services;
  private final HikariDataSource workers; // null: no workers
  private final HikariDataSource heartbeats; // null: no workers

  private OwnedPools(
      String jdbcUrl,
      String user,
      String password,
      SyncSettings workerSettings,
      int serviceConnections,
      Duration serviceConnectionTimeout) {
    if (serviceConnections < 1) {
      throw new IllegalArgumentException(
          "the service pool needs at least one connection: " + serviceConnections);
    }
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
    this.services =
        pool(
            "changesync-service",
            serviceConnections,
            serviceConnectionTimeout.compareTo(LEAST_CONNECTION_TIMEOUT) < 0
                ? LEAST_CONNECTION_TIMEOUT
                : serviceConnectionTimeout);
    if (workerSettings == null) {
      this.workers = null;
      this.heartbeats = null;
    } else {
      int threads = workerSettings.workerThreads();
      LeasePolicy policy = workerSettings.leasePolicy();
      HikariConfig workerConfig =
          config("changesync-worker", threads + WORKER_SUPPORT_CONNECTIONS, CONNECTION_TIMEOUT);
      workerConfig.setMinimumIdle(Math.min(2, threads + WORKER_SUPPORT_CONNECTIONS));
      workerConfig.setConnectionInitSql(workerGuards(policy));
      this.workers = new HikariDataSource(workerConfig);
      Duration statementTimeout = heartbeatStatementTimeout(policy);
      HikariConfig config =
          config("changesync-heartbeat", threads, heartbeatConnectionTimeout(policy));
      config.setMinimumIdle(threads);
      config.setConnectionInitSql(
          "set statement_timeout = " + statementTimeout.toMillis()); // milliseconds
      config.addDataSourceProperty("socketTimeout", heartbeatSocketTimeoutSeconds(policy));
      this.heartbeats = new HikariDataSource(config);
    }
  }

  /**
   * Pools on {@code jdbcUrl}; with {@code workerSettings} (null: this process runs no workers)
   * also the worker and heartbeat pools. Connects lazily: an unreachable database is reported by
   * the step that needs it, not here.
   */
  static OwnedPools open(
      String jdbcUrl, String user, String password, SyncSettings workerSettings) {
    return open(
        jdbcUrl, user, password, workerSettings, SERVICE_CONNECTIONS, CONNECTION_TIMEOUT);
  }

  /**
   * As {@link #open(String, String, String, SyncSettings)}, the service pool of {@code
   * serviceConnections} connections waiting at most {@code serviceConnectionTimeout} (at least
   * 250 ms) for one.
   */
  static OwnedPools open(
      String jdbcUrl,
      String user,
      String password,
      SyncSettings workerSettings,
      int serviceConnections,
      Duration serviceConnectionTimeout) {
    return new OwnedPools(
        jdbcUrl, user, password, workerSettings, serviceConnections, serviceConnectionTimeout);
  }

  DataSource services() {
    return services;
  }

  /** The worker pool; the service pool when this process runs no workers. */
  DataSource workers() {
    return workers != null ? workers : services;
  }

  /** The heartbeat pool, when this process runs workers. */
  Optional<DataSource> heartbeats() {
    return Optional.ofNullable(heartbeats);
  }

  /** Plain, unpooled connections: the liveness lock's. */
  DataSource liveness() {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(jdbcUrl);
    if (user != null) {
      ds.setUser(user);
    }
    if (password != null) {
      ds.setPassword(password);
    }
    // A half-open connection must not hold the lock (or hide its loss) for hours.
    ds.setTcpKeepAlive(true);
    ds.setSocketTimeout(LIVENESS_SOCKET_TIMEOUT_SECONDS);
    return ds;
  }

  /**
   * The worker pool's guards, both half of stale-after: {@code idle_in_transaction_session_timeout}
   * ends the session of a worker frozen inside a transaction (a paused VM, a SIGSTOP, a long GC)
   * so that the lease row lock its guarded write holds is gone before the lease goes stale and can
   * be reclaimed on time; {@code lock_timeout} bounds how long any statement of a worker waits for
   * a row lock. And {@code jit = off}: a worker's statements are short index-driven lookups and
   * writes, but a work-picking query over 100,000 repositories is estimated above {@code
   * jit_above_cost}, and compiling it took 30-40 ms of a 0.3 ms execution (docs/benchmarks.md).
   */
  static String workerGuards(LeasePolicy policy) {
    long millis = Math.max(1, policy.staleAfter().dividedBy(2).toMillis());
    return "set idle_in_transaction_session_timeout = "
        + millis
        + "; set lock_timeout = "
        + millis
        + "; set jit = off";
  }

  /** Half of stale-after: a heartbeat waiting longer than that gives up and tries again. */
  static Duration heartbeatStatementTimeout(LeasePolicy policy) {
    return policy.staleAfter().dividedBy(2);
  }

  /**
   * Three quarters of stale-after, in the whole seconds pgjdbc takes, and at least one: above the
   * statement timeout (the server's cancel normally answers first) and, from a stale-after of two
   * seconds on, below it.
   */
  static int heartbeatSocketTimeoutSeconds(LeasePolicy policy) {
    long seconds = policy.staleAfter().multipliedBy(3).dividedBy(4).toSeconds();
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, seconds));
  }

  private static Duration heartbeatConnectionTimeout(LeasePolicy policy) {
    Duration half = policy.staleAfter().dividedBy(2);
    if (half.compareTo(LEAST_CONNECTION_TIMEOUT) < 0) {
      return LEAST_CONNECTION_TIMEOUT;
    }
    return half.compareTo(CONNECTION_TIMEOUT) > 0 ? CONNECTION_TIMEOUT : half;
  }

  private HikariDataSource pool(String name, int size, Duration connectionTimeout) {
    HikariConfig config = config(name, size, connectionTimeout);
    config.setMinimumIdle(Math.min(2, size));
    return new HikariDataSource(config);
  }

  private HikariConfig config(String name, int size, Duration connectionTimeout) {
    HikariConfig config = new HikariConfig();
    config.setPoolName(name);
    config.setJdbcUrl(jdbcUrl);
    if (user != null) {
      config.setUsername(user);
    }
    if (password != null) {
      config.setPassword(password);
    }
    config.setMaximumPoolSize(size);
    config.setConnectionTimeout(connectionTimeout.toMillis());
    config.addDataSourceProperty("tcpKeepAlive", true);
    // Connect lazily: an unreachable database is reported by the step that needs it (or by
    // readiness), not by the pool's constructor.
    config.setInitializationFailTimeout(-1);
    return config;
  }

  /** Closes every pool; the last to close is the service pool. */
  @Override
  public void close() {
    if (heartbeats != null) {
      heartbeats.close();
    }
    if (workers != null) {
      workers.close();
    }
    services.close();
  }
}
