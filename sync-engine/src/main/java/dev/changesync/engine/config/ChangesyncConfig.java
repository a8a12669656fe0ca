package dev.changesync.engine.config;

import static java.util.Objects.requireNonNull;

import dev.changesync.lease.LeasePolicy;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The configuration of a changesync process (SPEC §6), parsed and validated in one place from the
 * environment and, for the server, the same settings as {@code --flags} (flags win).
 *
 * <p>Every problem is collected before anything fails, and each names the variable (or the flag it
 * came from) and the bad value: {@code CHANGESYNC_LEASE_TTL: 'fifteen' is not a duration (...)}. An
 * empty value counts as unset. Secrets ({@link Secret}) never appear in {@link #toString()} or in
 * error messages. Each secret may instead come from a file named by its {@code *_FILE} variable
 * (not both); the admin and read tokens need at least {@value #MIN_TOKEN_LENGTH} characters, and
 * neither they nor the webhook secret may start or end with whitespace.
 *
 * <pre>{@code
 * ChangesyncConfig config = ChangesyncConfig.from(System.getenv(), args);
 * }</pre>
 */
public final class ChangesyncConfig {

  /** What a process runs. */
  public enum Role {
    /** The HTTP API and workers. */
    ALL,
    /** The HTTP API only. */
    HTTP,
    /** Workers only (plus health endpoints, at the adapter's discretion). */
    WORKER;

    public boolean runsHttp() {
      return this != WORKER;
    }

    public boolean runsWorkers() {
      return this != HTTP;
    }

    /** The name as configured: {@code all}, {@code http} or {@code worker}. */
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** How the server writes its log lines. */
  public enum LogFormat {
    /** One human-readable line per event. */
    TEXT,
    /** One JSON object per line, for log shippers. */
    JSON;

    /** The name as configured: {@code text} or {@code json}. */
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  static final int MAX_WORKER_THREADS = 256;
  static final int MAX_WORKER_NAME_LENGTH = 200;

  /** Smallest service pool accepted: schema migrations on start hold two connections at once. */
  static final int MIN_DATABASE_POOL_SIZE = 2;

  /** Largest service pool accepted: far above any PostgreSQL's useful connection count. */
  static final int MAX_DATABASE_POOL_SIZE = 1000;

  /** Shortest admin or read token accepted. */
  public static final int MIN_TOKEN_LENGTH = 16;

  private static final Pattern WORKER_NAME = Pattern.compile("[^\\s\\p{Cntrl}]{1,200}");

  /** Settings {@link #toString()} shows through {@code githubAuth} and {@code leasePolicy}. */
  private static final Set<Setting<?>> PRINTED_TOGETHER =
      Set.of(
          Setting.GITHUB_TOKEN,
          Setting.GITHUB_APP_ID,
          Setting.GITHUB_APP_INSTALLATION_ID,
          Setting.GITHUB_APP_PRIVATE_KEY_PATH,
          Setting.LEASE_TTL,
          Setting.HEARTBEAT_INTERVAL,
          Setting.STALE_AFTER);

  /** The engine's settings and those the caller declared, in the order of {@code --help}. */
  private final List<Setting<?>> declared;

  /** The effective value of every declared setting that has one: given, default or computed. */
  private final Map<Setting<?>, Object> values;

  /** The {@code CHANGESYNC_*} variables read, for settings declared outside the engine. */
  private final Map<String, String> env;

  /** Settings first asked for after the parse, parsed from {@link #env} then. */
  private final Map<Setting<?>, Optional<Object>> late = new ConcurrentHashMap<>();

  private final Optional<PrivateKey> githubAppPrivateKey;
  private final LeasePolicy leasePolicy;

  private ChangesyncConfig(ConfigParser p, Map<String, String> env) {
    this.declared = p.settings;
    this.values = Map.copyOf(p.values);
    this.env = env;
    this.githubAppPrivateKey = p.githubAppKey;
    this.leasePolicy =
        LeasePolicy.of(
            get(Setting.LEASE_TTL), get(Setting.HEARTBEAT_INTERVAL), get(Setting.STALE_AFTER));
  }

  // ---------------------------------------------------------------------------------------------
  // Parsing
  // ---------------------------------------------------------------------------------------------

  /** From the process environment, no flags. */
  public static ChangesyncConfig fromEnvironment() {
    return from(System.getenv(), List.of());
  }

  /** From {@code env} alone (all defaults where unset). */
  public static ChangesyncConfig from(Map<String, String> env) {
    return from(env, List.of());
  }

  /**
   * From {@code env}, overridden by {@code --flag value} / {@code --flag=value} in {@code args}.
   */
  public static ChangesyncConfig from(Map<String, String> env, String... args) {
    return from(env, List.of(args));
  }

  /**
   * From {@code env}, overridden by {@code --flag value} / {@code --flag=value} in {@code args}.
   *
   * @throws ConfigException listing every problem found
   */
  public static ChangesyncConfig from(Map<String, String> env, List<String> args) {
    return from(env, args, List.of());
  }

  /**
   * From {@code env} and {@code args} as above, reading {@code more} settings too: those an
   * adapter declares (the HTTP server's), so that their flags are known and their problems are
   * reported with the others.
   *
   * @throws ConfigException listing every problem found
   */
  public static ChangesyncConfig from(
      Map<String, String> env, List<String> args, List<Setting<?>> more) {
    requireNonNull(env, "env");
    requireNonNull(args, "args");
    List<Setting<?>> settings = new ArrayList<>(Setting.values());
    settings.addAll(more);
    ConfigParser parser = new ConfigParser(settings);
    parser.collect(env, args);
    parser.parse();
    if (!parser.problems.isEmpty()) {
      throw new ConfigException(parser.problems);
    }
    Map<String, String> ours = new HashMap<>();
    env.forEach(
        (name, value) -> {
          if (name != null && name.startsWith("CHANGESYNC_") && value != null) {
            ours.put(name, value);
          }
        });
    return new ChangesyncConfig(parser, Map.copyOf(ours));
  }

  // ---------------------------------------------------------------------------------------------
  // Values
  // ---------------------------------------------------------------------------------------------

  /**
   * The value of {@code setting}: given, its default, or computed from others.
   *
   * @throws IllegalStateException when it has none (see {@link #find})
   */
  public <T> T get(Setting<T> setting) {
    return find(setting)
        .orElseThrow(
            () -> new IllegalStateException(setting.envName() + " is not set and has no default"));
  }

  /**
   * The value of {@code setting}, or empty when it is not set and has no default. A setting
   * declared outside the engine and not read with the configuration is parsed now from the same
   * environment.
   *
   * @throws ConfigException when such a setting's value is bad
   */
  @SuppressWarnings("unchecked")
  public <T> Optional<T> find(Setting<T> setting) {
    requireNonNull(setting, "setting");
    Object value = values.get(setting);
    if (value != null || declared.contains(setting)) {
      return Optional.ofNullable((T) value);
    }
    return (Optional<T>) late.computeIfAbsent(setting, this::parseLate);
  }

  private Optional<Object> parseLate(Setting<?> setting) {
    ConfigParser parser = new ConfigParser(List.of(setting));
    parser.collect(env, List.of());
    parser.parseOwnOnly();
    if (!parser.problems.isEmpty()) {
      throw new ConfigException(parser.problems);
    }
    return Optional.ofNullable(parser.values.get(setting));
  }

  /**
   * Whether {@code name} may be a worker name: 1–{@value #MAX_WORKER_NAME_LENGTH} characters, no
   * spaces or control characters.
   */
  public static boolean isWorkerName(String name) {
    return name != null && WORKER_NAME.matcher(name).matches();
  }

  /**
   * The worker name when none is configured: {@code <hostname>:<pid>}, the host name cut to fit
   * {@value #MAX_WORKER_NAME_LENGTH} characters in all, without spaces or control characters.
   */
  public static String defaultWorkerName() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException | SecurityException e) {
      host = "localhost";
    }
    host = host.replaceAll("[\\s\\p{Cntrl}]", "");
    String pid = Long.toString(ProcessHandle.current().pid());
    int room = MAX_WORKER_NAME_LENGTH - pid.length() - 1;
    if (host.isEmpty()) {
      host = "localhost";
    } else if (host.length() > room) {
      host = host.substring(0, room);
    }
    return host + ":" + pid;
  }

  /** {@code url} with any password in it masked. */
  static String redactUrl(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1****")
        .replaceAll("(//[^/@:]*:)[^/@]*@", "$1****@");
  }

  /** {@code CHANGESYNC_DATABASE_URL}: JDBC URL of the database, if configured. */
  public Optional<String> databaseUrl() {
    return find(Setting.DATABASE_URL);
  }

  /**
   * The database URL, or a {@link ConfigException} naming {@code CHANGESYNC_DATABASE_URL} when it
   * is not set — for the commands and roles that cannot run without one.
   */
  public String requireDatabaseUrl() {
    return databaseUrl().orElseThrow(
        () ->
            new ConfigException(
                Setting.DATABASE_URL.envName()
                    + " ("
                    + Setting.DATABASE_URL.flag()
                    + "): required (e.g. jdbc:postgresql://localhost:5432/changesync)"));
  }

  /** {@code CHANGESYNC_DATABASE_USER}: when not given in the URL. */
  public Optional<String> databaseUser() {
    return find(Setting.DATABASE_USER);
  }

  /**
   * {@code CHANGESYNC_DATABASE_POOL_SIZE}: connections of the service pool — HTTP requests,
   * webhook intake, readiness checks, CLI commands ({@value #MIN_DATABASE_POOL_SIZE}–{@value
   * #MAX_DATABASE_POOL_SIZE}); default
   * {@link #defaultDatabasePoolSize}.
   */
  public int databasePoolSize() {
    return get(Setting.DATABASE_POOL_SIZE);
  }

  /**
   * The service pool's size when none is configured. Status reads are short key lookups, whose
   * throughput stops growing once the connections outnumber the database's cores about twice, so:
   * a process of role {@code http} serves nothing else and gets 10 (HikariCP's own default); one
   * of role {@code all} gives the status path as many connections as its worker pool has (worker
   * threads + 2), at least 4 and at most 10, so that the API and the workers share the database
   * evenly; a {@code worker} process only checks readiness and prunes deliveries: 2.
   */
  public static int defaultDatabasePoolSize(Role role, int workerThreads) {
    return switch (role) {
      case HTTP -> 10;
      case WORKER -> 2;
      case ALL -> Math.max(4, Math.min(10, workerThreads + 2));
    };
  }

  /** {@code CHANGESYNC_DATABASE_PASSWORD}: when not given in the URL. */
  public Optional<Secret> databasePassword() {
    return find(Setting.DATABASE_PASSWORD);
  }

  /**
   * {@code CHANGESYNC_DATA_DIR}: where the embedded PostgreSQL keeps its data when {@link
   * #databaseUrl()} is empty (default {@code $XDG_DATA_HOME/changesync}, else {@code
   * ~/.local/share/changesync}); absolute.
   */
  public Path dataDir() {
    return get(Setting.DATA_DIR);
  }

  /** {@code CHANGESYNC_ROLE} (default {@code all}). */
  public Role role() {
    return get(Setting.ROLE);
  }

  /** {@code CHANGESYNC_WORKER_NAME} (default {@code <hostname>:<pid>}). */
  public String workerName() {
    return get(Setting.WORKER_NAME);
  }

  /** {@code CHANGESYNC_WORKER_THREADS} (default 2, 1–256). */
  public int workerThreads() {
    return get(Setting.WORKER_THREADS);
  }

  /** {@code CHANGESYNC_WEBHOOK_SECRET}; unset: webhooks are refused (403). */
  public Optional<Secret> webhookSecret() {
    return find(Setting.WEBHOOK_SECRET);
  }

  /**
   * {@code CHANGESYNC_ADMIN_TOKEN} (or the content of {@code CHANGESYNC_ADMIN_TOKEN_FILE}); unset:
   * admin routes are refused (403).
   */
  public Optional<Secret> adminToken() {
    return find(Setting.ADMIN_TOKEN);
  }

  /**
   * {@code CHANGESYNC_READ_TOKEN} (or the content of {@code CHANGESYNC_READ_TOKEN_FILE}): the
   * bearer token of the read routes; unset: reads are open.
   */
  public Optional<Secret> readToken() {
    return find(Setting.READ_TOKEN);
  }

  /**
   * From {@code CHANGESYNC_LEASE_TTL} (default 15m), {@code CHANGESYNC_HEARTBEAT_INTERVAL} and
   * {@code CHANGESYNC_STALE_AFTER}, via {@link LeasePolicy#withDefaults}.
   */
  public LeasePolicy leasePolicy() {
    return leasePolicy;
  }

  /** {@code CHANGESYNC_LIVENESS} (default on). */
  public boolean liveness() {
    return get(Setting.LIVENESS);
  }

  /**
   * {@code CHANGESYNC_RELEASE_COMMIT=sync} (default {@code async}): whether a lease release waits
   * for its commit to reach disk. See {@code PostgresLeaseStore.Builder#synchronousRelease}.
   */
  public boolean synchronousRelease() {
    return get(Setting.RELEASE_COMMIT);
  }

  /**
   * {@code CHANGESYNC_MIGRATE} (default on): whether the server applies pending schema migrations
   * on start ({@link dev.changesync.engine.Changesync.Builder#migrateOnStart}).
   */
  public boolean migrate() {
    return get(Setting.MIGRATE);
  }

  /** {@code CHANGESYNC_LOG_FORMAT} (default {@code text}): how the server writes its log lines. */
  public LogFormat logFormat() {
    return get(Setting.LOG_FORMAT);
  }

  // ---------------------------------------------------------------------------------------------
  // Help and printing
  // ---------------------------------------------------------------------------------------------

  /** One line per engine setting: flag, variable, default and what it does. */
  public static String usage() {
    return usage(List.of());
  }

  /**
   * One line per setting, the engine's and then {@code more}: flag, variable, default and what it
   * does — for {@code --help}.
   */
  public static String usage(List<Setting<?>> more) {
    List<Setting<?>> settings = new ArrayList<>(Setting.values());
    settings.addAll(more);
    StringBuilder out = new StringBuilder();
    int width = 0;
    for (Setting<?> s : settings) {
      width = Math.max(width, s.flag().length());
    }
    for (Setting<?> s : settings) {
      out.append("  ")
          .append(String.format(Locale.ROOT, "%-" + width + "s", s.flag()))
          .append("  ")
          .append(s.envName())
          .append(s.defaultValue().map(d -> " (default " + d + ")").orElse(""))
          .append("\n")
          .append(" ".repeat(width + 4))
          .append(s.description())
          .append("\n");
    }
    return out.toString();
  }


  /**
   * The GitHub App's private key, read and parsed from {@code
   * CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH} at parse time; empty without App credentials.
   */
  public Optional<PrivateKey> githubAppPrivateKey() {
    return githubAppPrivateKey;
  }

  /** Every setting with its effective value; secrets masked, passwords in the URL masked. */
  @Override
  public String toString() {
    StringJoiner out = new StringJoiner(", ", "ChangesyncConfig{", "}");
    for (Setting<?> s : declared) {
      if (s.name().endsWith("_FILE") || PRINTED_TOGETHER.contains(s)) {
        continue;
      }
      Object value = values.get(s);
      String shown = value == null ? "unset" : s.print(value);
      out.add(s.camelName() + "=" + (shown.isEmpty() ? "unset" : shown));
      if (s == Setting.GITHUB_ALLOW_INSECURE) {
        out.add("githubAuth=" + describeGitHubAuth());
      } else if (s == Setting.READ_TOKEN) {
        out.add(
            "leasePolicy=ttl "
                + Durations.format(leasePolicy.leaseFor())
                + ", heartbeat "
                + Durations.format(leasePolicy.heartbeatEvery())
                + ", stale after "
                + Durations.format(leasePolicy.staleAfter()));
      }
    }
    return out.toString();
  }

  private String describeGitHubAuth() {
    if (find(Setting.GITHUB_TOKEN).isPresent()) {
      return "token ****";
    }
    if (githubAppPrivateKey.isEmpty()) {
      return "none";
    }
    String key = " key " + get(Setting.GITHUB_APP_PRIVATE_KEY_PATH);
    return "app "
        + get(Setting.GITHUB_APP_ID)
        + find(Setting.GITHUB_APP_INSTALLATION_ID)
            .map(id -> " installation " + id)
            .orElse(" (each owner's installation)")
        + key;
  }
}
