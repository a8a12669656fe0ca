package dev.changesync.engine.lease;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Plain connections to a test database that can be made to fail, as if the database had become
 * unreachable: while {@link #down()}, every new connection is refused (open ones are untouched).
 */
final class SwitchableDataSource implements DataSource {

  private final PGSimpleDataSource target = new PGSimpleDataSource();
  private volatile boolean down;

  SwitchableDataSource(String jdbcUrl) {
    target.setUrl(jdbcUrl);
  }

  /** Refuses new connections from now on. */
  void down() {
    down = true;
  }

  /** Hands out connections again. */
  void up() {
    down = false;
  }

  @Override
  public Connection getConnection() throws SQLException {
    if (down) {
      throw new SQLTransientConnectionException("database unreachable (switched off by the test)");
    }
    return target.getConnection();
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    throw new SQLFeatureNotSupportedException("the test connects as the URL says");
  }

  @Override
  public PrintWriter getLogWriter() {
    return null;
  }

  @Override
  public void setLogWriter(PrintWriter out) {}

  @Override
  public void setLoginTimeout(int seconds) {}

  @Override
  public int getLoginTimeout() {
    return 0;
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException();
  }

  @Override
  public <T> T unwrap(Class<T> type) throws SQLException {
    throw new SQLException("not a wrapper");
  }

  @Override
  public boolean isWrapperFor(Class<?> type) {
    return false;
  }
}
