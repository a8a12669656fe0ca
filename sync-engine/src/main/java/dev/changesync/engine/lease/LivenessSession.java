package dev.changesync.engine.lease;

import static java.util.Objects.requireNonNull;

import com.google.common.hash.Hashing;
import dev.changesync.lease.OwnerId;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import javax.sql.DataSource;
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
 * <p>If the connection breaks while the process lives, the lock is gone and other workers may
 * reclaim this process's leases at once; its heartbeats and guarded writes then fail, which is
 * safe. {@link #verify()} re-establishes the lock on a new connection.
 */
public final class LivenessSession implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LivenessSession.class);

  private final DataSource dataSource;
  private final OwnerId owner;
  private final long key;
  private Connection connection; // guarded by this

  private LivenessSession(DataSource dataSource, OwnerId owner) {
    this.dataSource = dataSource;
    this.owner = owner;
    this.key = keyOf(owner);
  }

  /**
   * Takes the liveness lock of {@code owner} on a new connection from {@code dataSource}, which is
   * kept for the life of the session. Fails if the lock is already held (another process with the
   * same incarnation — which would be a bug).
   */
  public static LivenessSession open(DataSource dataSource, OwnerId owner) {
    LivenessSession session =
        new LivenessSession(requireNonNull(dataSource, "dataSource"), requireNonNull(owner, "owner"));
    synchronized (session) {
      session.connect();
    }
    return session;
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
   * The liveness key to record on a lease claimed by {@code claimer}: this session's key when the
   * claimer is this session's owner, else empty (a lease of another owner gets no liveness key, so
   * it can only go stale by time).
   */
  public Optional<Long> keyFor(OwnerId claimer) {
    return owner.equals(claimer) ? Optional.of(key) : Optional.empty();
  }

  /**
   * Checks that the lock is still held on a live connection and takes it again on a new connection
   * if not. Returns true when the lock had to be re-taken.
   */
  public synchronized boolean verify() {
    try {
      if (connection != null && !connection.isClosed() && connection.isValid(5) && holdsLock()) {
        return false;
      }
    } catch (SQLException e) {
      log.warn("liveness connection of {} failed; reconnecting", owner, e);
    }
    closeQuietly();
    connect();
    return true;
  }

  private boolean holdsLock() throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement(
            "select count(*) from pg_locks where locktype = 'advisory' and granted"
                + " and pid = pg_backend_pid() and objsubid = 1"
                + " and ((classid::bigint << 32) | objid::bigint) = ?")) {
      statement.setLong(1, key);
      try (ResultSet rs = statement.executeQuery()) {
        return rs.next() && rs.getLong(1) > 0;
      }
    }
  }

  private void connect() {
    try {
      connection = dataSource.getConnection();
      connection.setAutoCommit(true);
      try (PreparedStatement statement =
          connection.prepareStatement("select pg_try_advisory_lock(?)")) {
        statement.setLong(1, key);
        try (ResultSet rs = statement.executeQuery()) {
          rs.next();
          if (!rs.getBoolean(1)) {
            throw new IllegalStateException(
                "liveness lock of " + owner + " is already held by another session");
          }
        }
      }
    } catch (SQLException e) {
      closeQuietly();
      throw new IllegalStateException("could not take the liveness lock of " + owner, e);
    } catch (RuntimeException e) {
      closeQuietly();
      throw e;
    }
  }

  private void closeQuietly() {
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
   * Releases the lock and closes the session's connection. The explicit unlock matters when the
   * connection came from a pool: a session lock would otherwise stay on the pooled connection.
   */
  @Override
  public synchronized void close() {
    if (connection != null) {
      try (PreparedStatement statement =
          connection.prepareStatement("select pg_advisory_unlock(?)")) {
        statement.setLong(1, key);
        statement.execute();
      } catch (SQLException e) {
        log.debug("unlocking liveness lock of {} failed; closing its connection anyway", owner, e);
      }
    }
    closeQuietly();
  }
}
