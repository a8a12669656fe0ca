package dev.changesync.engine.config;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.config.ChangesyncConfig.LogFormat;
import dev.changesync.engine.config.ChangesyncConfig.Role;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * One setting of changesync (SPEC §6), declared once: its environment variable, its command-line
 * flag (the variable without {@code CHANGESYNC_}, lower case, dashes: {@code CHANGESYNC_HTTP_PORT}
 * ↔ {@code --http-port}), its type and parser, its default and its help line. {@link
 * ChangesyncConfig} parses every declared setting; each settings type reads the ones it needs
 * ({@code SyncSettings.from(config)}, {@code GitHubSettings.from(config)}) with {@link
 * ChangesyncConfig#get} and {@link ChangesyncConfig#find}.
 *
 * <p>A setting without a default has none or one computed from others (named in its help line);
 * the secrets' {@code *_FILE} twins name a file holding the value instead.
 *
 * @param <T> the parsed value's type
 */
public final class Setting<T> {

  private static final String PREFIX = "CHANGESYNC_";
  private static final List<Setting<?>> ALL = new ArrayList<>();

  public static final Setting<String> DATABASE_URL =
      declare(
              "DATABASE_URL",
              null,
              "JDBC URL of the PostgreSQL database (user/password may be in it)",
              Parsers::jdbcUrl)
          .printedAs(ChangesyncConfig::redactUrl);
  public static final Setting<String> DATABASE_USER =
      text("DATABASE_USER", "database user, when not in the URL");
  public static final Setting<Secret> DATABASE_PASSWORD =
      secret("DATABASE_PASSWORD", "database password, when not in the URL");
  public static final Setting<String> DATABASE_PASSWORD_FILE =
      text("DATABASE_PASSWORD_FILE", "file holding the database password (instead of the variable)");
  public static final Setting<Integer> DATABASE_POOL_SIZE =
      integer(
          "DATABASE_POOL_SIZE",
          null,
          ChangesyncConfig.MIN_DATABASE_POOL_SIZE,
          ChangesyncConfig.MAX_DATABASE_POOL_SIZE,
          "connections of the service pool (HTTP requests, webhooks, readiness); default http 10,"
              + " all max(4, min(10, worker threads + 2)), worker 2");
  public static final Setting<Path> DATA_DIR =
      declare(
          "DATA_DIR",
          null,
          "data of the embedded PostgreSQL, used when no database URL is set (default"
              + " $XDG_DATA_HOME/changesync, else ~/.local/share/changesync)",
          Parsers::dataDir);
  public static final Setting<Role> ROLE =
      declare("ROLE", "all", "all | http | worker: what this process runs", Parsers::role)
          .printedAs(Role::configName);
  public static final Setting<String> WORKER_NAME =
      declare(
          "WORKER_NAME",
          null,
          "stable name of this worker (default <hostname>:<pid>)",
          Parsers::workerName);
  public static final Setting<Integer> WORKER_THREADS =
      integer(
          "WORKER_THREADS",
          "2",
          1,
          ChangesyncConfig.MAX_WORKER_THREADS,
          "lanes this worker runs at the same time");
  public static final Setting<URI> GITHUB_API_URL =
      declare(
          "GITHUB_API_URL",
          "https://api.github.com",
          "GitHub REST base URL (GHES: https://HOST/api/v3)",
          Parsers::httpUrl);
  public static final Setting<Boolean> GITHUB_ALLOW_INSECURE =
      onOff(
          "GITHUB_ALLOW_INSECURE",
          "false",
          "true: allow a plain http:// GitHub API URL to a host other than loopback");
  public static final Setting<Secret> GITHUB_TOKEN =
      secret("GITHUB_TOKEN", "GitHub personal access token");
  public static final Setting<String> GITHUB_TOKEN_FILE =
      text("GITHUB_TOKEN_FILE", "file holding the GitHub token (instead of the variable)");
  public static final Setting<String> GITHUB_APP_ID =
      declare(
          "GITHUB_APP_ID",
          null,
          "GitHub App id (with installation id and private key path)",
          Parsers::appId);
  public static final Setting<Long> GITHUB_APP_INSTALLATION_ID =
      declare(
          "GITHUB_APP_INSTALLATION_ID",
          null,
          "GitHub App installation id (unset: each repository owner's installation is found)",
          Parsers::positiveLong);
  public static final Setting<Path> GITHUB_APP_PRIVATE_KEY_PATH =
      declare(
          "GITHUB_APP_PRIVATE_KEY_PATH",
          null,
          "path of the GitHub App's private key (PEM)",
          Parsers::readableFile);
  public static final Setting<Secret> WEBHOOK_SECRET =
      secret("WEBHOOK_SECRET", "secret of GitHub webhooks; unset: the webhook route answers 403");
  public static final Setting<String> WEBHOOK_SECRET_FILE =
      text("WEBHOOK_SECRET_FILE", "file holding the webhook secret (instead of the variable)");
  public static final Setting<Secret> ADMIN_TOKEN =
      secret("ADMIN_TOKEN", "bearer token of the admin routes; unset: they answer 403");
  public static final Setting<String> ADMIN_TOKEN_FILE =
      text("ADMIN_TOKEN_FILE", "file holding the admin token (instead of the variable)");
  public static final Setting<Secret> READ_TOKEN =
      secret(
          "READ_TOKEN",
          "bearer token of the read routes (the admin token also reads); unset: reads are open");
  public static final Setting<String> READ_TOKEN_FILE =
      text("READ_TOKEN_FILE", "file holding the read token (instead of the variable)");
  public static final Setting<Duration> LEASE_TTL =
      duration("LEASE_TTL", "15m", false, "lease time-to-live");
  public static final Setting<Duration> HEARTBEAT_INTERVAL =
      duration(
          "HEARTBEAT_INTERVAL", null, false, "lease heartbeat interval (default TTL/6 in [200ms, 10s])");
  public static final Setting<Duration> STALE_AFTER =
      duration("STALE_AFTER", null, false, "lease stale-after (default max(3 x heartbeat, 1s))");
  public static final Setting<Boolean> LIVENESS =
      onOff("LIVENESS", "on", "on | off: fast crash detection through session advisory locks");
  public static final Setting<Boolean> RELEASE_COMMIT =
      declare(
              "RELEASE_COMMIT",
              "async",
              "async | sync: whether a lease release waits for its commit to reach disk",
              Parsers::synchronousCommit)
          .printedAs(sync -> sync ? "sync" : "async");
  public static final Setting<Duration> POLL_INTERVAL =
      duration("POLL_INTERVAL", "5s", false, "how often an idle worker looks for work");
  public static final Setting<Duration> WEBHOOK_DEBOUNCE =
      duration("WEBHOOK_DEBOUNCE", "15s", true, "how long a dirty repository waits before its fetch");
  public static final Setting<Duration> MIN_FETCH_INTERVAL =
      duration("MIN_FETCH_INTERVAL", "1m", true, "least time between two fetches of one repository");
  public static final Setting<Duration> INVENTORY_MAX_AGE =
      duration(
          "INVENTORY_MAX_AGE", "6h", false, "a repository's inventory older than this is rescanned");
  public static final Setting<Duration> BACKFILL_INTERVAL =
      duration("BACKFILL_INTERVAL", "5s", true, "pause between backfill passes of one repository");
  public static final Setting<Integer> BACKFILL_MAX_PRS =
      integer(
          "BACKFILL_MAX_PRS",
          "1000",
          1,
          Integer.MAX_VALUE,
          "pull requests rebuilt per backfill pass at most");
  public static final Setting<Duration> BACKFILL_MAX_RUNTIME =
      duration("BACKFILL_MAX_RUNTIME", "30m", false, "longest backfill pass");
  public static final Setting<Duration> SHUTDOWN_GRACE =
      duration("SHUTDOWN_GRACE", "30s", true, "how long running passes may finish on shutdown");
  public static final Setting<Duration> RETRY_MIN =
      duration(
          "RETRY_MIN",
          "30s",
          false,
          "backoff of a lane after its first failure (doubles per further failure)");
  public static final Setting<Duration> RETRY_MAX =
      duration("RETRY_MAX", "1h", false, "longest backoff of a failing lane");
  public static final Setting<Boolean> MIGRATE =
      onOff("MIGRATE", "on", "on | off: apply pending schema migrations on start");
  public static final Setting<LogFormat> LOG_FORMAT =
      declare(
              "LOG_FORMAT",
              "text",
              "text | json: the server's log lines (json: one object per line)",
              Parsers::logFormat)
          .printedAs(LogFormat::configName);

  private final String name;
  private final String defaultValue;
  private final boolean secret;
  private final String description;
  private final Function<String, T> parser;
  private Function<T, String> printer = String::valueOf;

  private Setting(
      String name,
      String defaultValue,
      boolean secret,
      String description,
      Function<String, T> parser) {
    this.name = name;
    this.defaultValue = defaultValue;
    this.secret = secret;
    this.description = description;
    this.parser = parser;
  }

  private static <T> Setting<T> declare(
      String name, String defaultValue, String description, Function<String, T> parser) {
    Setting<T> s = new Setting<>(name, defaultValue, false, description, parser);
    ALL.add(s);
    return s;
  }

  /**
   * A setting declared outside the engine (the HTTP server's): parsed when the configuration is
   * read with it ({@link ChangesyncConfig#from(java.util.Map, List, List)}), else from the
   * environment the configuration was read from, on first use.
   *
   * @param parser takes the stripped, non-empty text; throws an {@link IllegalArgumentException}
   *     saying what is wrong with the value (or {@link BadValues} for several things)
   */
  public static <T> Setting<T> of(
      String name, String defaultValue, String description, Function<String, T> parser) {
    return new Setting<>(
        requireNonNull(name, "name"),
        defaultValue,
        false,
        requireNonNull(description, "description"),
        requireNonNull(parser, "parser"));
  }

  /** {@link #of} for a whole number in {@code [min, max]}. */
  public static Setting<Integer> ofInteger(
      String name, String defaultValue, int min, int max, String description) {
    return of(name, defaultValue, description, v -> Parsers.integer(v, min, max));
  }

  private static Setting<String> text(String name, String description) {
    return declare(name, null, description, Function.identity());
  }

  private static Setting<Secret> secret(String name, String description) {
    Setting<Secret> s = new Setting<>(name, null, true, description, Secret::of);
    ALL.add(s);
    return s.printedAs(secret -> "****");
  }

  private static Setting<Integer> integer(
      String name, String defaultValue, int min, int max, String description) {
    return declare(name, defaultValue, description, v -> Parsers.integer(v, min, max));
  }

  private static Setting<Boolean> onOff(String name, String defaultValue, String description) {
    return declare(name, defaultValue, description, Parsers::onOff)
        .printedAs(on -> on ? "on" : "off");
  }

  private static Setting<Duration> duration(
      String name, String defaultValue, boolean zeroAllowed, String description) {
    return declare(name, defaultValue, description, v -> Parsers.duration(v, zeroAllowed))
        .printedAs(Durations::format);
  }

  /** Shows the value in {@link ChangesyncConfig#toString()} with {@code printer}. */
  public Setting<T> printedAs(Function<T, String> printer) {
    this.printer = requireNonNull(printer, "printer");
    return this;
  }

  /** Every setting, in the order of {@code --help}. */
  public static List<Setting<?>> values() {
    return Collections.unmodifiableList(ALL);
  }

  /** The setting of a flag ({@code --http-port}), or empty. */
  public static Optional<Setting<?>> ofFlag(String flag) {
    for (Setting<?> s : ALL) {
      if (s.flag().equals(flag)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  /** The name without prefix, e.g. {@code HTTP_PORT}. */
  public String name() {
    return name;
  }

  /** The environment variable, e.g. {@code CHANGESYNC_HTTP_PORT}. */
  public String envName() {
    return PREFIX + name;
  }

  /** The command-line flag, e.g. {@code --http-port}. */
  public String flag() {
    return "--" + name.toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The default as text, or empty when the setting has none (or a computed one). */
  public Optional<String> defaultValue() {
    return Optional.ofNullable(defaultValue);
  }

  /**
   * The default, parsed, for settings types that start from the defaults ({@code
   * SyncSettings.defaults()}).
   *
   * @throws IllegalStateException when the setting has no default of its own
   */
  public T parsedDefault() {
    if (defaultValue == null) {
      throw new IllegalStateException(envName() + " has no default of its own");
    }
    return parse(defaultValue);
  }

  /** True for tokens and passwords: never printed. */
  public boolean secret() {
    return secret;
  }

  public String description() {
    return description;
  }

  /**
   * The value of {@code text} (stripped, not empty).
   *
   * @throws IllegalArgumentException saying what is wrong with it, without naming the setting
   */
  T parse(String text) {
    return parser.apply(text);
  }

  /** How the value appears in {@link ChangesyncConfig#toString()}: secrets as {@code ****}. */
  @SuppressWarnings("unchecked")
  String print(Object value) {
    return printer.apply((T) value);
  }

  /** The name in camel case, as {@link ChangesyncConfig#toString()} shows it: {@code httpPort}. */
  String camelName() {
    StringBuilder out = new StringBuilder();
    boolean upper = false;
    for (char c : name.toLowerCase(Locale.ROOT).toCharArray()) {
      if (c == '_') {
        upper = true;
      } else {
        out.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return out.toString();
  }

  @Override
  public String toString() {
    return envName();
  }

  /** Several things wrong with one value, each reported as its own problem. */
  public static final class BadValues extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public BadValues(List<String> problems) {
      super(String.join("; ", problems));
      this.problems = List.copyOf(problems);
    }

    /** What is wrong, one entry per problem, without the setting's name. */
    public List<String> problems() {
      return problems;
    }
  }
}
