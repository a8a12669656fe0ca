package dev.changesync.engine.service;

import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.function.Supplier;
import org.jdbi.v3.core.ConnectionException;
import org.jdbi.v3.core.JdbiException;

/** Turns "the database cannot be reached" into {@link UnavailableException} (503). */
final class Database {

  private Database() {}

  static <T> T call(Supplier<T> work) {
    try {
      return work.get();
    } catch (JdbiException e) {
      if (isPoolExhausted(e)) {
        throw new UnavailableException(
            "database busy: no connection of the pool was free in time", e);
      }
      if (isUnavailable(e)) {
        throw new UnavailableException("database unavailable: " + rootMessage(e), e);
      }
      throw e;
    }
  }

  /**
   * True when the pool had no free connection within its timeout while the database itself was
   * fine: HikariCP then throws a {@link SQLTransientConnectionException} without a cause (with one,
   * the cause is why new connections failed, and the database is unavailable).
   */
  static boolean isPoolExhausted(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException && t.getCause() == null) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  static boolean isUnavailable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectionException
          || t instanceof SQLTransientConnectionException
          || t instanceof SQLNonTransientConnectionException
          || t instanceof ConnectException) {
        return true;
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        String state = sql.getSQLState();
        // 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect
        // now.
        if (state.startsWith("08") || state.startsWith("57P")) {
          return true;
        }
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }
}
