package dev.changesync.cli;

import dev.changesync.engine.config.PostgresUrls;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Where a command gets its answers: a server's HTTP API or the database directly. Chosen by {@link
 * #choose}:
 *
 * <ol>
 *   <li>A flag wins: {@code --server URL} or {@code --database-url JDBC_URL} (not both).
 *   <li>Without a flag, {@code CHANGESYNC_SERVER_URL} in the environment means that server.
 *   <li>Else {@code CHANGESYNC_DATABASE_URL} in the environment means that database.
 *   <li>Else the server at {@value #DEFAULT_SERVER}.
 * </ol>
 *
 * {@code CHANGESYNC_SERVER_URL} beats {@code CHANGESYNC_DATABASE_URL} because only the CLI reads
 * it — setting it is a choice — while the database URL is also the server's own setting and is
 * often just there in a server's environment.
 */
sealed interface Target {

  String SERVER_ENV = "CHANGESYNC_SERVER_URL";
  String DATABASE_ENV = "CHANGESYNC_DATABASE_URL";
  String DEFAULT_SERVER = "http://localhost:8080";

  /** A server's HTTP API at {@code url} (no trailing slash). */
  record Server(URI url) implements Target {}

  /** The database at {@code jdbcUrl}. */
  record Database(String jdbcUrl) implements Target {}

  /** The flags or the environment name no usable target; the message names the flag or variable. */
  final class InvalidTarget extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final boolean fromFlag;

    InvalidTarget(String message, boolean fromFlag) {
      super(message);
      this.fromFlag = fromFlag;
    }

    /** Whether a flag is wrong (a usage error) rather than the environment. */
    boolean fromFlag() {
      return fromFlag;
    }
  }

  /**
   * Chooses by the rule above.
   *
   * @throws InvalidTarget when both flags are given or a URL is malformed
   */
  static Target choose(String serverFlag, String databaseFlag, Map<String, String> env) {
    Optional<String> server = given(serverFlag);
    Optional<String> database = given(databaseFlag);
    if (server.isPresent() && database.isPresent()) {
      throw new InvalidTarget("--server and --database-url are alternatives: give one of them", true);
    }
    if (server.isPresent()) {
      return new Server(serverUrl("--server", server.get()));
    }
    if (database.isPresent()) {
      return new Database(jdbcUrl("--database-url", database.get()));
    }
    Optional<String> serverEnv = given(env.get(SERVER_ENV));
    if (serverEnv.isPresent()) {
      return new Server(serverUrl(SERVER_ENV, serverEnv.get()));
    }
    Optional<String> databaseEnv = given(env.get(DATABASE_ENV));
    if (databaseEnv.isPresent()) {
      return new Database(jdbcUrl(DATABASE_ENV, databaseEnv.get()));
    }
    return new Server(URI.create(DEFAULT_SERVER));
  }

  /**
   * The database for commands that need one ({@code migrate}): the flag, else the variable.
   *
   * @throws InvalidTarget when {@code --server} is given, or no database is named
   */
  static Database database(String serverFlag, String databaseFlag, Map<String, String> env) {
    if (given(serverFlag).isPresent()) {
      throw new InvalidTarget(
          "this command works on the database only: use --database-url instead of --server", true);
    }
    Optional<String> database = given(databaseFlag);
    if (database.isPresent()) {
      return new Database(jdbcUrl("--database-url", database.get()));
    }
    Optional<String> databaseEnv = given(env.get(DATABASE_ENV));
    if (databaseEnv.isPresent()) {
      return new Database(jdbcUrl(DATABASE_ENV, databaseEnv.get()));
    }
    throw new InvalidTarget(
        "this command works on the database only: give --database-url JDBC_URL or set "
            + DATABASE_ENV,
        true);
  }

  private static Optional<String> given(String value) {
    return Optional.ofNullable(value).map(String::strip).filter(v -> !v.isEmpty());
  }

  private static URI serverUrl(String source, String value) {
    try {
      URI uri = new URI(value);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if ((scheme.equals("http") || scheme.equals("https"))
          && uri.getHost() != null
          && uri.getRawQuery() == null
          && uri.getRawFragment() == null) {
        String text = uri.toString();
        while (text.endsWith("/")) {
          text = text.substring(0, text.length() - 1);
        }
        return URI.create(text);
      }
    } catch (URISyntaxException e) {
      // reported below
    }
    throw new InvalidTarget(
        source + ": '" + printable(value) + "' is not an http(s) URL (e.g. " + DEFAULT_SERVER + ")",
        source.startsWith("--"));
  }

  private static String jdbcUrl(String source, String value) {
    if (PostgresUrls.isLibpqUrl(value)) {
      try {
        return PostgresUrls.toJdbc(value);
      } catch (IllegalArgumentException e) {
        throw new InvalidTarget(
            source + ": '" + printable(DatabaseBackend.redact(value)) + "' " + e.getMessage(),
            source.startsWith("--"));
      }
    }
    if (!value.startsWith("jdbc:postgresql:")) {
      throw new InvalidTarget(
          source
              + ": '"
              + printable(DatabaseBackend.redact(value))
              + "' is not a PostgreSQL URL (jdbc:postgresql://HOST:PORT/DATABASE or"
              + " postgres://USER:PASSWORD@HOST:PORT/DATABASE)",
          source.startsWith("--"));
    }
    return value;
  }

  private static String printable(String s) {
    String cut = s.length() > 120 ? s.substring(0, 120) + "…" : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
