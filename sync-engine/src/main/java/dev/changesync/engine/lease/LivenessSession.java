package dev.changesync.engine.lease;

import static java.util.Objects.requireNonNull;

import com.google.common.hash.Hashing;
import dev.changesync.lease.OwnerId;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proof that a worker process is alive: a session-level advisory lock, keyed by the process's
 * incarnation, held on a dedicated connection for as long as the process runs. When the process
 * dies its connection closes and PostgreSQL drops the lock, so other workers can tell at once that
 * the leases it held belong to nobody.
 *
 * <p>It needs real sessions: behind a pooler in transaction mode (PgBouncer and the like) the lock
 * would not stay with the process, so liveness must be switched off there
 * ({@code CHANGESYNC_LIVENESS=off}) and dead owners are then detected by stale-after alone.
 *
 * <p><b>Losing the connection while the process lives.</b> A daemon thread, {@code
 * changesync-liveness}, owns the connection: it waits on it for notifications ({@code LISTEN}),
 * which returns an error the moment the connection breaks (a terminated backend, a restarted
 * server or pooler). The session then counts as not {@linkplain #isHeld() held} at once, and the
 * thread takes the lock again on a new connection straight away, retrying with a short capped
 * backoff while the database is unreachable or the lock is still taken (a dying backend, or another
 * worker's claim checking the lock at that instant). Only once the lock is really held again does
 * the session count as held. Meanwhile {@link #keyFor} is empty and the {@link PostgresLeaseStore}
 * claims nothing for this owner, so no lease gets a liveness key that nobody holds; leases claimed
 * before are protected by the store's grace (see {@link PostgresLeaseStore}) or, once it has
 * passed, may be taken over once — their holder's heartbeats and guarded writes then fail, which is
 * safe. Every {@link #CHECK_EVERY} the thread also asks {@code pg_locks} whether the lock is still
 * held on its connection, which catches the rare case of a live connection without it.
 *
 * <p><b>Notifications.</b> {@link #listen} subscribes to a channel on the same connection; the
 * subscription is renewed on every new connection. Notifications sent while the connection is
 * being replaced are missed, so a consumer treats them as hints and polls as well.
 */
public final class LivenessSession implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LivenessSession.class);

  /** How often the watcher asks {@code pg_locks} whether it still holds the lock. */
  static final Duration CHECK_EVERY = Duration.ofSeconds(10);

  /** How often the watcher looks for peers' locks gone, while anyone {@link #watchPeers}. */
  static final Duration PEERS_EVERY = Duration.ofMillis(100);

  /** Session-level advisory locks (two-int form, as pg_try_advisory_lock(bigint) takes them). */
  private static final String PEER_LOCKS =
      "select (classid::bigint << 32) | objid::bigint from pg_locks"
          + " where locktype = 'advisory' and granted and objsubid = 1"
          + " and database = (select oid from pg_database where datname = current_database())";

  /**
   * TCP keepalives of the server's end of the liveness connection: when a worker's host vanishes
   * (a crash, a partition), the server drops the session — and so the liveness lock — after about
   * {@value #SERVER_KEEPALIVE_BOUND_SECONDS} s of silence, not the operating system's default of
   * two hours. No effect on a Unix-socket connection, whose end the kernel reports at once.
   */
  private static final String SERVER_KEEPALIVES =
      "set tcp_keepalives_idle = 5; set tcp_keepalives_interval = 2; set tcp_keepalives_count = 3";

  /** How long the server takes, at most, to drop a vanished host's liveness session. */
  public static final int SERVER_KEEPALIVE_BOUND_SECONDS = 5 + 2 * 3;

  /** How long one wait for notifications lasts; it bounds how long {@link #close()} takes. */
  private static final int WAIT_MILLIS = 100;

  /** The first and the longest wait between attempts to take the lock again. */
  private static final Duration FIRST_RETRY_AFTER = Duration.ofMillis(20);

  private static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(1);

  private static final Pattern CHANNEL = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

  private static final String HOLDS_LOCK =
      "select count(*) from pg_locks where locktype = 'advisory' and granted"
          + " and pid = pg_backend_pid() and objsubid = 1"
          + " and ((classid::bigint << 32) | objid::bigint) = ?";

  private final DataSource dataSource;
  private final OwnerId owner;
  private final long key;
  private final Map<String, List<Consumer<String>>> channels = new ConcurrentHashMap<>();
  private final List<Runnable> peerWatchers = new CopyOnWriteArrayList<>();
  private final CountDownLatch closing = new CountDownLatch(1);
  private final Thread watcher;
  private volatile boolean held;

  // Only the watcher thread touches these once open() has started it.
  private Connection connection;
  private final Set<String> listening = new HashSet<>(); // channels LISTENed on `connection`

  private LivenessSession(DataSource dataSource, OwnerId owner) {
    this.dataSource = dataSource;
    this.owner = owner;
    this.key = keyOf(owner);
    this.watcher = new Thread(this::watch, "changesync-liveness");
    this.watcher.setDaemon(true);
  }

  /**
   * Takes the liveness lock of {@code owner} on a new connection from {@code dataSource}, which is
   * kept for the life of the session (replaced when it breaks), and starts the session's thread.
   * Fails if the database is unreachable or the lock is already held (another process with the
   * same incarnation — which would be a bug).
   */
  public static LivenessSession open(DataSource dataSource, OwnerId owner) {
    LivenessSession session =
        new LivenessSession(requireNonNull(dataSource, "dataSource"), requireNonNull(owner, "owner"));
    try {
      session.connection = session.newConnection();
      if (!session.tryLock()) {
        throw new IllegalStateException(
            "liveness lock of " + owner + " is already held by another session");
      }
      session.checkSessionsAreReal();
    } catch (SQLException e) {
      session.closeConnection();
      throw new IllegalStateException("could not take the liveness lock of " + owner, e);
    } catch (RuntimeException e) {
      session.unlockAndClose(); // behind a pooler the lock would outlive the connection
      throw e;
    }
    session.held = true;
    session.watcher.start();
    return session;
  }

  /** What {@link #open} says when the connections it gets share database sessions. */
  static final String SHARED_SESSIONS =
      "liveness needs a database session of its own, but the connections here share sessions"
          + " (a connection pooler in transaction or statement mode, such as PgBouncer or"
          + " RDS Proxy?): a session lock proves nothing there, and workers would take live"
          + " workers' leases. Connect to PostgreSQL directly or through a pooler in session"
          + " mode, or set CHANGESYNC_LIVENESS=off (dead workers are then found by stale-after)";

  /**
   * Proves that the lock just taken belongs to a session of this connection's own: a second
   * connection must not be able to take it too (it can when both are served by one server session,
   * as behind a transaction-mode pooler), and the lock must be held by the backend this connection
   * runs its statements on. Throws {@link IllegalStateException} ({@link #SHARED_SESSIONS})
   * otherwise.
   */
  private void checkSessionsAreReal() throws SQLException {
    long ownPid = backendPid(connection);
    try (Connection probe = dataSource.getConnection()) {
      probe.setAutoCommit(true);
      boolean shared;
      try (PreparedStatement statement =
          probe.prepareStatement("select pg_try_advisory_lock(?)")) {
        statement.setLong(1, key);
        try (ResultSet rs = statement.executeQuery()) {
          rs.next();
          shared = rs.getBoolean(1);
        }
      }
      if (shared) {
        try (PreparedStatement statement =
            probe.prepareStatement("select pg_advisory_unlock(?)")) {
          statement.setLong(1, key);
          statement.execute();
        }
        throw new IllegalStateException(SHARED_SESSIONS);
      }
      try (PreparedStatement statement =
          probe.prepareStatement(
              "select pid from pg_locks where locktype = 'advisory' and granted and objsubid = 1"
                  + " and ((classid::bigint << 32) | objid::bigint) = ?")) {
        statement.setLong(1, key);
        try (ResultSet rs = statement.executeQuery()) {
          if (!rs.next() || rs.getLong(1) != ownPid) {
            throw new IllegalStateException(SHARED_SESSIONS);
          }
        }
      }
    }
  }

  private static long backendPid(Connection c) throws SQLException {
    try (Statement statement = c.createStatement();
        ResultSet rs = statement.executeQuery("select pg_backend_pid()")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The advisory lock key of an owner's incarnation. */
  public static long keyOf(OwnerId owner) {
    return Hashing.farmHashFingerprint64()
        .hashString("changesync-liveness:" + owner, StandardCharsets.UTF_8)
        .asLong();
  }

  public OwnerId owner() {
    return owner;
  }

  public long key() {
    return key;
  }

  /**
   * True while this session holds its lock on a live connection, as far as it knows: false from
   * the moment the connection is seen to break until the lock is taken again, and after {@link
   * #close()}. A volatile read, cheap enough for every claim.
   */
  public boolean isHeld() {
    return held;
  }

  /**
   * The liveness key to record on a lease claimed by {@code claimer}: this session's key when the
   * claimer is this session's owner and the lock is {@linkplain #isHeld() held}, else empty. A
   * lease of another owner gets no liveness key, so it can only go stale by time; the session's own
   * owner should claim nothing while this is empty.
   */
  public Optional<Long> keyFor(OwnerId claimer) {
    return owner.equals(claimer) && held ? Optional.of(key) : Optional.empty();
  }

  /**
   * Listens on {@code channel} (an identifier: letters, digits and underscores, not starting with
   * a digit; case matters) on this session's connection and hands each notification's payload to
   * {@code onNotification}, on the session's thread — keep it short, and whatever it throws is
   * logged and ignored. The {@code LISTEN} takes effect within about 100 ms and again on every new
   * connection; notifications sent before, or while the connection is being replaced, are missed.
   */
  public Subscription listen(String channel, Consumer<String> onNotification) {
    requireNonNull(channel, "channel");
    requireNonNull(onNotification, "onNotification");
    if (!CHANNEL.matcher(channel).matches()) {
      throw new IllegalArgumentException(
          "channel must be 1-63 letters, digits or underscores not starting with a digit, got '"
              + channel
              + "'");
    }
    List<Consumer<String>> handlers =
        channels.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>());
    handlers.add(onNotification);
    return () -> handlers.remove(onNotification);
  }

  /**
   * Calls {@code onPeerGone} on the session's thread whenever a session-level advisory lock that
   * was held in this database is seen gone — a peer's liveness lock when its process died or
   * stopped, found within about {@link #PEERS_EVERY} by asking {@code pg_locks}, with no
   * query per peer. A hint, like a notification: some false alarms (any advisory lock) and no
   * promise while the connection is being replaced.
   */
  public Subscription watchPeers(Runnable onPeerGone) {
    requireNonNull(onPeerGone, "onPeerGone");
    peerWatchers.add(onPeerGone);
    return () -> peerWatchers.remove(onPeerGone);
  }

  /** Ends a {@link #listen} or {@link #watchPeers} subscription. */
  @FunctionalInterface
  public interface Subscription extends AutoCloseable {
    @Override
    void close();
  }

  // ---------------------------------------------------------------------------------------------
  // The watcher thread
  // ---------------------------------------------------------------------------------------------

  private void watch() {
    Duration retryAfter = Duration.ZERO;
    long lostAt = 0;
    long checkedAt = System.nanoTime();
    Set<Long> peers = null; // the advisory locks seen at the last peer check; null: none yet
    long peersCheckedAt = 0;
    while (closing.getCount() > 0) {
      try {
        if (!held) {
          if (!retryAfter.isZero() && closing.await(retryAfter.toNanos(), TimeUnit.NANOSECONDS)) {
            break;
          }
          retryAfter = nextRetryAfter(retryAfter);
          if (connection == null) {
            connection = newConnection();
          }
          if (!tryLock()) {
            log.debug("liveness lock of {} is still taken; trying again in {}", owner, retryAfter);
            continue;
          }
          listening.clear();
          listenToNewChannels();
          peers = null;
          held = true;
          retryAfter = Duration.ZERO;
          checkedAt = System.nanoTime();
          log.warn(
              "liveness lock of {} taken again after {} ms",
              owner,
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lostAt));
          continue;
        }
        listenToNewChannels();
        PGNotification[] notifications =
            connection.unwrap(PGConnection.class).getNotifications(WAIT_MILLIS);
        if (notifications != null) {
          for (PGNotification notification : notifications) {
            deliver(notification);
          }
        }
        if (peerWatchers.isEmpty()) {
          peers = null;
        } else if (peers == null || System.nanoTime() - peersCheckedAt >= PEERS_EVERY.toNanos()) {
          peersCheckedAt = System.nanoTime();
          peers = checkPeers(peers);
        }
        if (System.nanoTime() - checkedAt >= CHECK_EVERY.toNanos()) {
          checkedAt = System.nanoTime();
          if (!holdsLock()) {
            throw new SQLException("the liveness connection no longer holds the lock");
          }
        }
      } catch (InterruptedException e) {
        break; // only close() ends the thread; an interrupt means the JVM is going down
      } catch (SQLException | RuntimeException e) {
        if (held) {
          held = false;
          lostAt = System.nanoTime();
          retryAfter = Duration.ZERO;
          log.warn(
              "liveness connection of {} failed ({}); claiming nothing until the lock is taken again",
              owner,
              e.toString());
        } else {
          log.debug("taking the liveness lock of {} again failed; retrying", owner, e);
        }
        closeConnection();
      }
    }
    held = false;
    unlockAndClose();
  }

  private static Duration nextRetryAfter(Duration retryAfter) {
    if (retryAfter.isZero()) {
      return FIRST_RETRY_AFTER;
    }
    Duration doubled = retryAfter.multipliedBy(2);
    return doubled.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : doubled;
  }

  private void deliver(PGNotification notification) {
    for (Consumer<String> handler :
        channels.getOrDefault(notification.getName(), List.of())) {
      try {
        handler.accept(notification.getParameter());
      } catch (RuntimeException e) {
        log.warn("handling a notification on channel {} failed", notification.getName(), e);
      }
    }
  }

  /**
   * Asks {@code pg_locks} which session-level advisory locks are held in this database and tells
   * the peer watchers when one seen last time is gone. Returns what it saw.
   */
  private Set<Long> checkPeers(Set<Long> seen) throws SQLException {
    Set<Long> now = new HashSet<>();
    try (PreparedStatement statement = connection.prepareStatement(PEER_LOCKS);
        ResultSet rs = statement.executeQuery()) {
      while (rs.next()) {
        now.add(rs.getLong(1));
      }
    }
    if (seen != null && !now.containsAll(seen)) {
      for (Runnable watcher : peerWatchers) {
        try {
          watcher.run();
        } catch (RuntimeException e) {
          log.warn("a peer watcher of {} failed", owner, e);
        }
      }
    }
    return now;
  }

  private void listenToNewChannels() throws SQLException {
    for (String channel : channels.keySet()) {
      if (listening.add(channel)) {
        try (Statement statement = connection.createStatement()) {
          statement.execute("listen \"" + channel + "\"");
        } catch (SQLException e) {
          listening.remove(channel);
          throw e;
        }
      }
    }
  }

  private Connection newConnection() throws SQLException {
    Connection c = dataSource.getConnection();
    try {
      c.setAutoCommit(true);
      try (Statement statement = c.createStatement()) {
        statement.execute(SERVER_KEEPALIVES);
      }
      return c;
    } catch (SQLException e) {
      c.close();
      throw e;
    }
  }

  private boolean tryLock() throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement("select pg_try_advisory_lock(?)")) {
      statement.setLong(1, key);
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private boolean holdsLock() throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(HOLDS_LOCK)) {
      statement.setLong(1, key);
      try (ResultSet rs = statement.executeQuery()) {
        return rs.next() && rs.getLong(1) > 0;
      }
    }
  }

  /**
   * Gives up the lock and the subscriptions, then closes the connection. The explicit unlock and
   * {@code UNLISTEN} matter when the connection came from a pool: a session lock would otherwise
   * stay on the pooled connection.
   */
  private void unlockAndClose() {
    if (connection != null) {
      try (PreparedStatement statement =
              connection.prepareStatement("select pg_advisory_unlock_all()");
          Statement unlisten = connection.createStatement()) {
        statement.execute();
        unlisten.execute("unlisten *");
      } catch (SQLException e) {
        log.debug("unlocking liveness lock of {} failed; closing its connection anyway", owner, e);
      }
    }
    closeConnection();
  }

  private void closeConnection() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        log.debug("closing liveness connection failed", e);
      }
      connection = null;
    }
  }

  /**
   * Releases the lock, stops the session's thread and closes its connection; waits up to a few
   * seconds for that. Idempotent; an interrupt while waiting cuts the wait short and is kept.
   */
  @Override
  public void close() {
    closing.countDown();
    if (Thread.currentThread() == watcher || !watcher.isAlive()) {
      return;
    }
    try {
      watcher.join(Duration.ofSeconds(5).toMillis());
      if (watcher.isAlive()) {
        log.warn("the liveness thread of {} did not stop within 5 s", owner);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
