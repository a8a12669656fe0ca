package dev.changesync.http;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.config.Setting;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The start-up failures an operator causes and fixes — the database unreachable, refusing the
 * credentials or missing, the HTTP port taken, a bind address that is not this machine's — as one
 * line naming the setting and the cause (SPEC §6: exit 2), instead of a stack trace. Anything else
 * is not recognised here and stays a failed start (exit 1).
 */
final class StartupFailure {

  private StartupFailure() {}

  /** The one line for {@code failure}, when it is one of the failures above. */
  static Optional<String> describe(Throwable failure, ChangesyncConfig config) {
    String database =
        config.databaseUrl().map(StartupFailure::where).orElse("the database");
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof BindException) {
        String message = String.valueOf(t.getMessage());
        if (message.toLowerCase(java.util.Locale.ROOT).contains("in use")) {
          return Optional.of(
              HttpSettings.PORT.envName()
                  + ": port "
                  + HttpSettings.from(config).port()
                  + " on "
                  + HttpSettings.from(config).host()
                  + " is already in use (another server running?); choose another port");
        }
        return Optional.of(
            HttpSettings.HOST.envName()
                + ": cannot listen on "
                + HttpSettings.from(config).host()
                + ":"
                + HttpSettings.from(config).port()
                + " ("
                + message
                + "); use an address of this machine, such as 127.0.0.1 or 0.0.0.0");
      }
      if (t instanceof UnresolvedAddressException) {
        return Optional.of(
            HttpSettings.HOST.envName()
                + ": cannot listen on "
                + HttpSettings.from(config).host()
                + ": not an address of this machine (name not resolved)");
      }
    }
    // The pool's own exception ("Connection is not available") wraps the driver's: the deepest
    // SQL state says what happened, a socket exception where the database is not reachable.
    SQLException deepest = null;
    Throwable network = null;
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        deepest = sql;
      }
      if (t instanceof ConnectException
          || t instanceof NoRouteToHostException
          || t instanceof UnknownHostException
          || t instanceof SocketTimeoutException) {
        network = t;
      }
    }
    if (network != null) {
      return Optional.of(
          Setting.DATABASE_URL.envName()
              + ": the database at "
              + database
              + " is not reachable ("
              + network.getClass().getSimpleName()
              + ": "
              + network.getMessage()
              + ")");
    }
    if (deepest != null) {
      return database(deepest, database);
    }
    return Optional.empty();
  }

  private static Optional<String> database(SQLException sql, String database) {
    String state = sql.getSQLState();
    String reason = firstLine(sql.getMessage());
    if (state.equals("28P01") || state.equals("28000")) {
      return Optional.of(
          Setting.DATABASE_URL.envName()
              + " (user and password, or "
              + Setting.DATABASE_USER.envName()
              + " / "
              + Setting.DATABASE_PASSWORD.envName()
              + "): the database at "
              + database
              + " refused them: "
              + reason);
    }
    if (state.equals("3D000")) {
      return Optional.of(
          Setting.DATABASE_URL.envName()
              + ": "
              + reason
              + " at "
              + database
              + "; create it (createdb) or fix the URL");
    }
    if (state.startsWith("08") || state.equals("57P03")) {
      return Optional.of(
          Setting.DATABASE_URL.envName()
              + ": the database at "
              + database
              + " is not reachable: "
              + reason);
    }
    return Optional.empty();
  }

  /** Host, port and database of a JDBC URL, without user info or parameters. */
  static String where(String jdbcUrl) {
    String url = jdbcUrl;
    int query = url.indexOf('?');
    if (query >= 0) {
      url = url.substring(0, query);
    }
    url = url.replaceFirst("^jdbc:postgresql://", "").replaceAll("^[^/@]*@", "");
    return url.isEmpty() ? "(no host)" : url;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "no details";
    }
    String line = message.strip();
    int newline = line.indexOf('\n');
    return (newline < 0 ? line : line.substring(0, newline)).strip();
  }
}
