package dev.changesync.cli;

import dev.changesync.engine.config.PostgresUrls;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Where a command gets its answers: a server's HTTP API or the database directly. Chosen by {@link
 * #choose}:
 *
 * <ol>
 *   <li>A flag wins: {@code --server URL}, {@code --database-url JDBC_URL} or {@code --data-dir
 *       DIR} (one of them).
 *   <li>Without a flag, {@code CHANGESYNC_SERVER_URL} in the environment means that server.
 *   <li>Else {@code CHANGESYNC_DATABASE_URL} in the environment means that database.
 *   <li>Else {@code CHANGESYNC_DATA_DIR} means the embedded PostgreSQL on that directory.
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
  String DATA_DIR_ENV = "CHANGESYNC_DATA_DIR";
  String DEFAULT_SERVER = "http://localhost:8080";

  /** A server's HTTP API at {@code url} (no trailing slash). */
  record Server(URI url) implements Target {}

  /** The database at {@code jdbcUrl}. */
  record Database(String jdbcUrl) implements Target, DirectDatabase {}

  /**
   * The embedded PostgreSQL on the data directory {@code dir} (absolute), started by the CLI
   * itself; refused while a server holds the directory.
   */
  record DataDir(Path dir) implements Target, DirectDatabase {}

  /** A database the CLI opens itself: {@link Database} or {@link DataDir}. */
  sealed interface DirectDatabase permits Database, DataDir {}

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
    return choose(serverFlag, databaseFlag, null, env);
  }

  /**
   * Chooses by the rule above.
   *
   * @throws InvalidTarget when more than one flag is given or a URL or path is malformed
   */
  static Target choose(
      String serverFlag, String databaseFlag, String dataDirFlag, Map<String, String> env) {
    Optional<String> server = given(serverFlag);
    Optional<String> database = given(databaseFlag);
    Optional<String> dataDir = given(dataDirFlag);
    if ((server.isPresent() ? 1 : 0) + (database.isPresent() ? 1 : 0) + (dataDir.isPresent() ? 1 : 0)
        > 1) {
      throw new InvalidTarget(
          "--server, --database-url and --data-dir are alternatives: give one of them", true);
    }
    if (server.isPresent()) {
      return new Server(serverUrl("--server", server.get()));
    }
    if (database.isPresent()) {
      return new Database(jdbcUrl("--database-url", database.get()));
    }
    if (dataDir.isPresent()) {
      return new DataDir(path("--data-dir", dataDir.get()));
    }
    Optional<String> serverEnv = given(env.get(SERVER_ENV));
    if (serverEnv.isPresent()) {
      return new Server(serverUrl(SERVER_ENV, serverEnv.get()));
    }
    Optional<String> databaseEnv = given(env.get(DATABASE_ENV));
    if (databaseEnv.isPresent()) {
      return new Database(jdbcUrl(DATABASE_ENV, databaseEnv.get()));
    }
    Optional<String> dataDirEnv = given(env.get(DATA_DIR_ENV));
    if (dataDirEnv.isPresent()) {
      return new DataDir(path(DATA_DIR_ENV, dataDirEnv.get()));
    }
    return new Server(URI.create(DEFAULT_SERVER));
  }

  /**
   * The database for commands that need one ({@code migrate}): the flag, else the variable.
   *
   * @throws InvalidTarget when {@code --server} is given, or no database is named
   */
  static DirectDatabase database(
      String serverFlag, String databaseFlag, String dataDirFlag, Map<String, String> env) {
    if (given(serverFlag).isPresent()) {
      throw new InvalidTarget(
          "this command works on the database only: use --database-url or --data-dir instead of"
              + " --server",
          true);
    }
    Target target = choose(null, databaseFlag, dataDirFlag, withoutServer(env));
    if (target instanceof DirectDatabase d) {
      return d;
    }
    throw new InvalidTarget(
        "this command works on the database only: give --database-url JDBC_URL or --data-dir DIR,"
            + " or set "
            + DATABASE_ENV
            + " or "
            + DATA_DIR_ENV,
        true);
  }

  private static Map<String, String> withoutServer(Map<String, String> env) {
    Map<String, String> copy = new java.util.HashMap<>(env);
    copy.remove(SERVER_ENV);
    return copy;
  }

  private static Path path(String source, String value) {
    try {
      return Path.of(value).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      throw new InvalidTarget(
          source + ": '" + printable(value) + "' is not a path (" + e.getReason() + ")",
          source.startsWith("--"));
    }
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
