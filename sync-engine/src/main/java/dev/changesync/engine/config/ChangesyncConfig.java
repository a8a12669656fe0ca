package dev.changesync.engine.config;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.EmbeddedDatabase;
import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.sync.SyncSettings;
import dev.changesync.lease.LeasePolicy;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.function.Function;
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

  private static final Pattern HOST_NAME =
      Pattern.compile("[a-z0-9_]([a-z0-9_.-]{0,251}[a-z0-9_])?");
  private static final Pattern WORKER_NAME = Pattern.compile("[^\\s\\p{Cntrl}]{1,200}");

  private final Optional<String> databaseUrl;
  private final Optional<String> databaseUser;
  private final Optional<Secret> databasePassword;
  private final int databasePoolSize;
  private final Path dataDir;
  private final String httpHost;
  private final int httpPort;
  private final List<String> httpAllowedHosts;
  private final Role role;
  private final String workerName;
  private final int workerThreads;
  private final URI githubApiUrl;
  private final Optional<GitHubAuth> githubAuth;
  private final Optional<Path> githubAppPrivateKeyPath;
  private final Optional<Secret> webhookSecret;
  private final Optional<Secret> adminToken;
  private final Optional<Secret> readToken;
  private final LeasePolicy leasePolicy;
  private final boolean liveness;
  private final boolean synchronousRelease;
  private final Duration pollEvery;
  private final Duration webhookDebounce;
  private final Duration minFetchInterval;
  private final Duration inventoryMaxAge;
  private final Duration backfillInterval;
  private final int backfillMaxPrs;
  private final Duration backfillMaxRuntime;
  private final Duration shutdownGrace;
  private final Duration retryMin;
  private final Duration retryMax;
  private final boolean migrate;
  private final LogFormat logFormat;

  private ChangesyncConfig(Parser p) {
    this.databaseUrl = p.databaseUrl;
    this.databaseUser = p.databaseUser;
    this.databasePassword = p.databasePassword;
    this.databasePoolSize = p.databasePoolSize;
    this.dataDir = p.dataDir;
    this.httpHost = p.httpHost;
    this.httpPort = p.httpPort;
    this.httpAllowedHosts = p.httpAllowedHosts;
    this.role = p.role;
    this.workerName = p.workerName;
    this.workerThreads = p.workerThreads;
    this.githubApiUrl = p.githubApiUrl;
    this.githubAuth = p.githubAuth;
    this.githubAppPrivateKeyPath = p.githubAppPrivateKeyPath;
    this.webhookSecret = p.webhookSecret;
    this.adminToken = p.adminToken;
    this.readToken = p.readToken;
    this.leasePolicy = p.leasePolicy;
    this.liveness = p.liveness;
    this.synchronousRelease = p.synchronousRelease;
    this.pollEvery = p.pollEvery;
    this.webhookDebounce = p.webhookDebounce;
    this.minFetchInterval = p.minFetchInterval;
    this.inventoryMaxAge = p.inventoryMaxAge;
    this.backfillInterval = p.backfillInterval;
    this.backfillMaxPrs = p.backfillMaxPrs;
    this.backfillMaxRuntime = p.backfillMaxRuntime;
    this.shutdownGrace = p.shutdownGrace;
    this.retryMin = p.retryMin;
    this.retryMax = p.retryMax;
    this.migrate = p.migrate;
    this.logFormat = p.logFormat;
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
    requireNonNull(env, "env");
    requireNonNull(args, "args");
    Parser parser = new Parser();
    parser.collect(env, args);
    parser.parse();
    if (!parser.problems.isEmpty()) {
      throw new ConfigException(parser.problems);
    }
    return new ChangesyncConfig(parser);
  }

  /** A value as given, and where it came from (the variable or the flag), for messages. */
  private record Raw(String source, String value) {}

  /** A secret and where it came from (the variable, flag or file variable), for messages. */
  private record Found(Secret secret, String source) {}

  /** How strictly a secret is checked. */
  private enum SecretRule {
    /** Any non-empty value (passwords; the GitHub token is checked by {@link GitHubAuth}). */
    ANY,
    /** No leading or trailing whitespace (the webhook secret). */
    TRIMMED,
    /** No surrounding whitespace and at least {@value #MIN_TOKEN_LENGTH} characters. */
    TOKEN
  }

  private static final class Parser {
    final Map<Setting, Raw> raw = new EnumMap<>(Setting.class);
    final List<String> problems = new ArrayList<>();

    Optional<String> databaseUrl;
    Optional<String> databaseUser;
    Optional<Secret> databasePassword;
    int databasePoolSize;
    Path dataDir;
    Map<String, String> env = Map.of();
    String httpHost;
    int httpPort;
    List<String> httpAllowedHosts;
    Role role;
    String workerName;
    int workerThreads;
    URI githubApiUrl;
    Optional<GitHubAuth> githubAuth = Optional.empty();
    Optional<Path> githubAppPrivateKeyPath = Optional.empty();
    Optional<Secret> webhookSecret;
    Optional<Secret> adminToken;
    Optional<Secret> readToken;
    LeasePolicy leasePolicy;
    boolean liveness;
    boolean synchronousRelease;
    Duration pollEvery;
    Duration webhookDebounce;
    Duration minFetchInterval;
    Duration inventoryMaxAge;
    Duration backfillInterval;
    int backfillMaxPrs;
    Duration backfillMaxRuntime;
    Duration shutdownGrace;
    Duration retryMin;
    Duration retryMax;
    boolean migrate;
    LogFormat logFormat;

    void collect(Map<String, String> env, List<String> args) {
      this.env = env;
      for (Setting s : Setting.values()) {
        String value = env.get(s.envName());
        if (value != null && !value.isBlank()) {
          raw.put(s, new Raw(s.envName(), value));
        }
      }
      for (int i = 0; i < args.size(); i++) {
        String arg = requireNonNull(args.get(i), "args[" + i + "]");
        if (!arg.startsWith("--")) {
          problems.add(
              "unexpected argument '" + Durations.printable(arg) + "' (settings are --flag value)");
          continue;
        }
        String flag = arg;
        String value = null;
        int eq = arg.indexOf('=');
        if (eq >= 0) {
          flag = arg.substring(0, eq);
          value = arg.substring(eq + 1);
        }
        Optional<Setting> setting = Setting.ofFlag(flag);
        if (setting.isEmpty()) {
          problems.add("unknown option " + Durations.printable(flag));
          continue;
        }
        if (value == null) {
          boolean next = i + 1 < args.size();
          if (!next || Setting.ofFlag(args.get(i + 1).split("=", 2)[0]).isPresent()) {
            problems.add(flag + ": needs a value");
            continue;
          }
          value = args.get(++i);
        }
        if (value.isBlank()) {
          raw.remove(setting.get());
        } else {
          raw.put(setting.get(), new Raw(flag, value));
        }
      }
    }

    void parse() {
      databaseUrl = text(Setting.DATABASE_URL).flatMap(this::jdbcUrl);
      databaseUser = text(Setting.DATABASE_USER);
      databasePassword =
          secret(Setting.DATABASE_PASSWORD, Setting.DATABASE_PASSWORD_FILE, SecretRule.ANY)
              .map(Found::secret);
      dataDir =
          text(Setting.DATA_DIR)
              .map(this::dataDir)
              .orElseGet(() -> EmbeddedDatabase.defaultDataDir(env));
      httpHost = required(Setting.HTTP_HOST, this::host, "127.0.0.1");
      httpPort = required(Setting.HTTP_PORT, v -> integer(Setting.HTTP_PORT, v, 0, 65_535), 0);
      httpAllowedHosts =
          text(Setting.HTTP_ALLOWED_HOSTS).map(this::allowedHosts).orElse(List.of());
      role = required(Setting.ROLE, v -> role(Setting.ROLE, v), Role.ALL);
      workerName =
          text(Setting.WORKER_NAME)
              .map(v -> workerName(Setting.WORKER_NAME, v))
              .orElseGet(ChangesyncConfig::defaultWorkerName);
      workerThreads =
          required(
              Setting.WORKER_THREADS,
              v -> integer(Setting.WORKER_THREADS, v, 1, MAX_WORKER_THREADS),
              1);
      databasePoolSize =
          text(Setting.DATABASE_POOL_SIZE)
              .map(
                  v -> integer(
                          Setting.DATABASE_POOL_SIZE,
                          v,
                          MIN_DATABASE_POOL_SIZE,
                          MAX_DATABASE_POOL_SIZE))
              .orElseGet(() -> defaultDatabasePoolSize(role, workerThreads));
      githubApiUrl =
          required(
              Setting.GITHUB_API_URL,
              v -> httpUrl(Setting.GITHUB_API_URL, v),
              URI.create("https://api.github.com"));
      Setting allowInsecure = Setting.GITHUB_ALLOW_INSECURE;
      boolean insecure = required(allowInsecure, v -> onOff(allowInsecure, v), false);
      if (!insecure
          && githubApiUrl.getScheme().equalsIgnoreCase("http")
          && !Hosts.isLoopback(githubApiUrl.getHost())) {
        problem(
            Setting.GITHUB_API_URL,
            "'"
                + Durations.printable(githubApiUrl.toString())
                + "' is plain http to a host that is not loopback (the GitHub credentials would"
                + " cross the network unencrypted); use https, or set "
                + Setting.GITHUB_ALLOW_INSECURE.envName()
                + "=true");
      }
      githubAuth = githubAuth();
      webhookSecret =
          secret(Setting.WEBHOOK_SECRET, Setting.WEBHOOK_SECRET_FILE, SecretRule.TRIMMED)
              .map(Found::secret);
      adminToken =
          secret(Setting.ADMIN_TOKEN, Setting.ADMIN_TOKEN_FILE, SecretRule.TOKEN)
              .map(Found::secret);
      readToken =
          secret(Setting.READ_TOKEN, Setting.READ_TOKEN_FILE, SecretRule.TOKEN)
              .map(Found::secret);
      leasePolicy = leasePolicy();
      liveness = required(Setting.LIVENESS, v -> onOff(Setting.LIVENESS, v), true);
      synchronousRelease =
          required(Setting.RELEASE_COMMIT, v -> synchronousCommit(Setting.RELEASE_COMMIT, v), false);
      pollEvery = duration(Setting.POLL_INTERVAL, false);
      webhookDebounce = duration(Setting.WEBHOOK_DEBOUNCE, true);
      minFetchInterval = duration(Setting.MIN_FETCH_INTERVAL, true);
      inventoryMaxAge = duration(Setting.INVENTORY_MAX_AGE, false);
      backfillInterval = duration(Setting.BACKFILL_INTERVAL, true);
      backfillMaxPrs =
          required(
              Setting.BACKFILL_MAX_PRS,
              v -> integer(Setting.BACKFILL_MAX_PRS, v, 1, Integer.MAX_VALUE),
              1);
      backfillMaxRuntime = duration(Setting.BACKFILL_MAX_RUNTIME, false);
      shutdownGrace = duration(Setting.SHUTDOWN_GRACE, true);
      retryMin = duration(Setting.RETRY_MIN, false);
      retryMax = duration(Setting.RETRY_MAX, false);
      if (retryMax.compareTo(retryMin) < 0) {
        problems.add(
            source(Setting.RETRY_MAX)
                + " ("
                + Durations.format(retryMax)
                + ") must not be shorter than "
                + source(Setting.RETRY_MIN)
                + " ("
                + Durations.format(retryMin)
                + ")");
      }
      migrate = required(Setting.MIGRATE, v -> onOff(Setting.MIGRATE, v), true);
      logFormat = required(Setting.LOG_FORMAT, v -> logFormat(Setting.LOG_FORMAT, v), LogFormat.TEXT);
    }

    // --- one setting ----------------------------------------------------------------------------

    private String source(Setting s) {
      Raw r = raw.get(s);
      return r == null ? s.envName() : r.source();
    }

    /** The given value, or the default; empty when neither. */
    private Optional<String> text(Setting s) {
      Raw r = raw.get(s);
      if (r != null) {
        return Optional.of(r.value().strip());
      }
      return s.defaultValue();
    }

    /**
     * A secret from its variable (or flag) {@code s} or from the file named by {@code file}, not
     * both, checked per {@code rule}; empty when neither is set or it is unusable (a problem).
     */
    private Optional<Found> secret(Setting s, Setting file, SecretRule rule) {
      Raw direct = raw.get(s);
      Raw path = raw.get(file);
      if (direct != null && path != null) {
        problems.add(source(s) + " and " + source(file) + " are both set; use one of them");
        return Optional.empty();
      }
      String value;
      String from;
      if (direct != null) {
        value = direct.value();
        from = direct.source();
      } else if (path != null) {
        from = path.source();
        try {
          value = SecretFile.read(path.value().strip());
        } catch (IllegalArgumentException e) {
          problems.add(from + ": " + e.getMessage());
          return Optional.empty();
        }
      } else {
        return Optional.empty();
      }
      if (rule != SecretRule.ANY && !value.equals(value.strip())) {
        problems.add(
            from
                + ": starts or ends with whitespace; remove it (the value is compared exactly,"
                + " and a stray space or newline is usually a copy-paste slip)");
        return Optional.empty();
      }
      if (rule == SecretRule.TOKEN && value.length() < MIN_TOKEN_LENGTH) {
        problems.add(
            from
                + ": too short ("
                + value.length()
                + " characters); use at least "
                + MIN_TOKEN_LENGTH
                + ", e.g. from openssl rand -hex 32");
        return Optional.empty();
      }
      return Optional.of(new Found(Secret.of(value), from));
    }

    /**
     * Parses a setting that always has a value (given or default). A parse failure is recorded by
     * the parse function, which returns null; then {@code fallback} keeps the parser going.
     */
    private <T> T required(Setting s, Function<String, T> parse, T fallback) {
      String value = text(s).orElseThrow(() -> new IllegalStateException(s + " has no default"));
      T parsed = parse.apply(value);
      return parsed == null ? fallback : parsed;
    }

    private Duration duration(Setting s, boolean zeroAllowed) {
      Duration fallback = Duration.ofSeconds(1);
      return required(s, v -> duration(s, v, zeroAllowed), fallback);
    }

    private Duration duration(Setting s, String value, boolean zeroAllowed) {
      try {
        Duration d = Durations.parse(value);
        if (d.isZero() && !zeroAllowed) {
          return problem(s, "'" + value + "' must be longer than zero");
        }
        return d;
      } catch (IllegalArgumentException e) {
        return problem(s, e.getMessage());
      }
    }

    private Integer integer(Setting s, String value, int min, int max) {
      int parsed;
      try {
        parsed = Integer.parseInt(value);
      } catch (NumberFormatException e) {
        return problem(s, "'" + Durations.printable(value) + "' is not a whole number");
      }
      if (parsed < min || parsed > max) {
        String range =
            max == Integer.MAX_VALUE ? "at least " + min : "between " + min + " and " + max;
        return problem(s, parsed + " is out of range (" + range + ")");
      }
      return parsed;
    }

    private Long positiveLong(Setting s, String value) {
      try {
        long parsed = Long.parseLong(value);
        if (parsed > 0) {
          return parsed;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      return problem(s, "'" + Durations.printable(value) + "' is not a positive whole number");
    }

    private Role role(Setting s, String value) {
      for (Role r : Role.values()) {
        if (r.configName().equalsIgnoreCase(value)) {
          return r;
        }
      }
      return problem(s, "'" + Durations.printable(value) + "' is not a role (all, http or worker)");
    }

    private LogFormat logFormat(Setting s, String value) {
      for (LogFormat f : LogFormat.values()) {
        if (f.configName().equalsIgnoreCase(value)) {
          return f;
        }
      }
      return problem(s, "'" + Durations.printable(value) + "' is not a log format (text or json)");
    }

    private Boolean synchronousCommit(Setting s, String value) {
      switch (value.toLowerCase(Locale.ROOT)) {
        case "sync":
          return true;
        case "async":
          return false;
        default:
          return problem(s, "'" + Durations.printable(value) + "' is not async or sync");
      }
    }

    private Boolean onOff(Setting s, String value) {
      switch (value.toLowerCase(Locale.ROOT)) {
        case "on", "true", "yes", "1":
          return true;
        case "off", "false", "no", "0":
          return false;
        default:
          return problem(s, "'" + Durations.printable(value) + "' is not on or off");
      }
    }

    private String host(String value) {
      if (value.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
        return problem(
            Setting.HTTP_HOST,
            "'" + Durations.printable(value) + "' is not a host name or address");
      }
      return value;
    }

    private Optional<String> jdbcUrl(String value) {
      if (PostgresUrls.isLibpqUrl(value)) {
        try {
          return Optional.of(PostgresUrls.toJdbc(value));
        } catch (IllegalArgumentException e) {
          problem(
              Setting.DATABASE_URL,
              "'" + Durations.printable(redactUrl(value)) + "' " + e.getMessage());
          return Optional.empty();
        }
      }
      if (!value.startsWith("jdbc:postgresql:")) {
        problem(
            Setting.DATABASE_URL,
            "'"
                + Durations.printable(redactUrl(value))
                + "' is not a PostgreSQL URL (jdbc:postgresql://HOST:PORT/DATABASE or"
                + " postgres://USER:PASSWORD@HOST:PORT/DATABASE)");
        return Optional.empty();
      }
      return Optional.of(value);
    }

    private List<String> allowedHosts(String value) {
      List<String> hosts = new ArrayList<>();
      for (String entry : value.split(",", -1)) {
        String host = Hosts.normalize(entry);
        if (host.equals("*") || Hosts.isAddress(host) || HOST_NAME.matcher(host).matches()) {
          hosts.add(host);
        } else {
          problem(
              Setting.HTTP_ALLOWED_HOSTS,
              "'"
                  + Durations.printable(entry.strip())
                  + "' is not a host name (comma-separated names or addresses, without scheme or"
                  + " port; * for any)");
        }
      }
      return List.copyOf(hosts);
    }

    private String workerName(Setting s, String value) {
      if (!isWorkerName(value)) {
        return problem(
            s,
            "'"
                + Durations.printable(value)
                + "' is not a worker name (1-"
                + MAX_WORKER_NAME_LENGTH
                + " characters, no spaces or control characters)");
      }
      return value;
    }

    private URI httpUrl(Setting s, String value) {
      try {
        URI uri = new URI(value);
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if ((scheme.equals("http") || scheme.equals("https"))
            && uri.getHost() != null
            && uri.getQuery() == null
            && uri.getFragment() == null) {
          String text = uri.toString();
          while (text.endsWith("/")) {
            text = text.substring(0, text.length() - 1);
          }
          return URI.create(text);
        }
      } catch (URISyntaxException e) {
        // reported below
      }
      return problem(
          s,
          "'"
              + Durations.printable(value)
              + "' is not an http(s) URL (e.g. https://api.github.com or https://HOST/api/v3)");
    }

    private Path dataDir(String value) {
      try {
        Path path = Path.of(value);
        if (path.isAbsolute()) {
          return path.normalize();
        }
        return Path.of("").toAbsolutePath().resolve(path).normalize();
      } catch (InvalidPathException e) {
        problem(
            Setting.DATA_DIR,
            "'" + Durations.printable(value) + "' is not a path (" + e.getReason() + ")");
        return Path.of(value.replace('\0', '_'));
      }
    }

    private Optional<GitHubAuth> githubAuth() {
      Optional<Found> token =
          secret(Setting.GITHUB_TOKEN, Setting.GITHUB_TOKEN_FILE, SecretRule.ANY);
      Optional<String> appId = text(Setting.GITHUB_APP_ID);
      Optional<String> installationId = text(Setting.GITHUB_APP_INSTALLATION_ID);
      Optional<String> keyPath = text(Setting.GITHUB_APP_PRIVATE_KEY_PATH);
      boolean anyApp = appId.isPresent() || installationId.isPresent() || keyPath.isPresent();
      if (token.isPresent() && anyApp) {
        problems.add(
            token.get().source()
                + ": a GitHub token and GitHub App settings are both set; use one or the other");
        return Optional.empty();
      }
      if (token.isPresent()) {
        try {
          return Optional.of(GitHubAuth.token(token.get().secret().reveal()));
        } catch (IllegalArgumentException e) {
          // The message describes the token's shape, never the token.
          problems.add(token.get().source() + ": " + e.getMessage());
          return Optional.empty();
        }
      }
      if (!anyApp) {
        return Optional.empty();
      }
      List<String> missing = new ArrayList<>();
      for (Setting s : List.of(Setting.GITHUB_APP_ID, Setting.GITHUB_APP_PRIVATE_KEY_PATH)) {
        if (text(s).isEmpty()) {
          missing.add(s.envName() + " (" + s.flag() + ")");
        }
      }
      String app = appId.map(this::appId).orElse(null);
      Long installation =
          installationId.map(v -> positiveLong(Setting.GITHUB_APP_INSTALLATION_ID, v)).orElse(null);
      Path key = keyPath.map(this::privateKeyPath).orElse(null);
      if (!missing.isEmpty()) {
        problems.add(
            "GitHub App settings are incomplete: "
                + String.join(" and ", missing)
                + (missing.size() == 1 ? " is" : " are")
                + " missing (an app needs its id and private key path; without "
                + Setting.GITHUB_APP_INSTALLATION_ID.envName()
                + " each repository owner's installation is found)");
        return Optional.empty();
      }
      if (app == null || key == null || (installationId.isPresent() && installation == null)) {
        return Optional.empty();
      }
      try {
        // Reads and parses the key now, so that a bad key stops start-up naming the setting.
        GitHubAuth auth =
            installation == null
                ? GitHubAuth.app(app, key)
                : GitHubAuth.app(app, installation, key);
        githubAppPrivateKeyPath = Optional.of(key);
        return Optional.of(auth);
      } catch (IllegalArgumentException | UncheckedIOException e) {
        return Optional.ofNullable(
            problem(
                Setting.GITHUB_APP_PRIVATE_KEY_PATH,
                "'"
                    + Durations.printable(key.toString())
                    + "' holds no usable private key ("
                    + Durations.printable(String.valueOf(e.getMessage()))
                    + ")"));
      }
    }

    private String appId(String value) {
      if (value.matches("[1-9][0-9]{0,18}|Iv[0-9A-Za-z._]{1,100}")) {
        return value;
      }
      return problem(
          Setting.GITHUB_APP_ID,
          "'"
              + Durations.printable(value)
              + "' is not a GitHub App id (a number, or a client id Iv...)");
    }

    private Path privateKeyPath(String value) {
      Setting s = Setting.GITHUB_APP_PRIVATE_KEY_PATH;
      try {
        Path path = Path.of(value);
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
          return problem(s, "'" + Durations.printable(value) + "' is not a readable file");
        }
        return path;
      } catch (InvalidPathException e) {
        return problem(s, "'" + Durations.printable(value) + "' is not a path");
      }
    }

    private LeasePolicy leasePolicy() {
      int before = problems.size();
      Duration ttl = duration(Setting.LEASE_TTL, false);
      Duration heartbeat =
          text(Setting.HEARTBEAT_INTERVAL)
              .map(v -> duration(Setting.HEARTBEAT_INTERVAL, v, false))
              .orElse(null);
      Duration staleAfter =
          text(Setting.STALE_AFTER).map(v -> duration(Setting.STALE_AFTER, v, false)).orElse(null);
      if (problems.size() == before) {
        try {
          return LeasePolicy.withDefaults(ttl, heartbeat, staleAfter);
        } catch (IllegalArgumentException e) {
          // LeasePolicy names its parameters; say which settings they came from.
          problems.add(
              e.getMessage()
                  .replaceAll("\\bleaseFor\\b", source(Setting.LEASE_TTL))
                  .replaceAll("\\bheartbeatEvery\\b", source(Setting.HEARTBEAT_INTERVAL))
                  .replaceAll("\\bstaleAfter\\b", source(Setting.STALE_AFTER)));
        }
      }
      return LeasePolicy.defaults();
    }

    /** Records a problem with setting {@code s}; returns null so parse functions can return it. */
    private <T> T problem(Setting s, String message) {
      problems.add(source(s) + ": " + message);
      return null;
    }
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

  // ---------------------------------------------------------------------------------------------
  // Values
  // ---------------------------------------------------------------------------------------------

  /** {@code CHANGESYNC_DATABASE_URL}: JDBC URL of the database, if configured. */
  public Optional<String> databaseUrl() {
    return databaseUrl;
  }

  /**
   * The database URL, or a {@link ConfigException} naming {@code CHANGESYNC_DATABASE_URL} when it
   * is not set — for the commands and roles that cannot run without one.
   */
  public String requireDatabaseUrl() {
    return databaseUrl.orElseThrow(
        () ->
            new ConfigException(
                Setting.DATABASE_URL.envName()
                    + " ("
                    + Setting.DATABASE_URL.flag()
                    + "): required (e.g. jdbc:postgresql://localhost:5432/changesync)"));
  }

  /** {@code CHANGESYNC_DATABASE_USER}: when not given in the URL. */
  public Optional<String> databaseUser() {
    return databaseUser;
  }

  /**
   * {@code CHANGESYNC_DATABASE_POOL_SIZE}: connections of the service pool — HTTP requests,
   * webhook intake, readiness checks, CLI commands ({@value #MIN_DATABASE_POOL_SIZE}–{@value
   * #MAX_DATABASE_POOL_SIZE}); default
   * {@link #defaultDatabasePoolSize}.
   */
  public int databasePoolSize() {
    return databasePoolSize;
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
    return databasePassword;
  }

  /**
   * {@code CHANGESYNC_DATA_DIR}: where the embedded PostgreSQL keeps its data when {@link
   * #databaseUrl()} is empty (default {@code $XDG_DATA_HOME/changesync}, else {@code
   * ~/.local/share/changesync}); absolute.
   */
  public Path dataDir() {
    return dataDir;
  }

  /** {@code CHANGESYNC_HTTP_HOST} (default {@code 127.0.0.1}). */
  public String httpHost() {
    return httpHost;
  }

  /** {@code CHANGESYNC_HTTP_PORT} (default 8080; 0 = any free port). */
  public int httpPort() {
    return httpPort;
  }

  /**
   * {@code CHANGESYNC_HTTP_ALLOWED_HOSTS}: the {@code Host} names the server answers besides its
   * bind address, {@code localhost} and address literals — lower case, {@code *} for any; empty
   * when unset.
   */
  public List<String> httpAllowedHosts() {
    return httpAllowedHosts;
  }

  /** {@code CHANGESYNC_ROLE} (default {@code all}). */
  public Role role() {
    return role;
  }

  /** {@code CHANGESYNC_WORKER_NAME} (default {@code <hostname>:<pid>}). */
  public String workerName() {
    return workerName;
  }

  /** {@code CHANGESYNC_WORKER_THREADS} (default 2, 1–256). */
  public int workerThreads() {
    return workerThreads;
  }

  /**
   * {@code CHANGESYNC_GITHUB_API_URL} (default {@code https://api.github.com}), no trailing slash.
   */
  public URI githubApiUrl() {
    return githubApiUrl;
  }

  /**
   * How to authenticate to GitHub: a token from {@code CHANGESYNC_GITHUB_TOKEN}, or a GitHub App
   * from {@code CHANGESYNC_GITHUB_APP_ID} + {@code _INSTALLATION_ID} + {@code _PRIVATE_KEY_PATH}
   * (the key already read and parsed); empty when neither is configured.
   */
  public Optional<GitHubAuth> githubAuth() {
    return githubAuth;
  }

  /**
   * The GitHub client's settings — {@link #githubApiUrl()} and {@link #githubAuth()}, defaults for
   * the rest; {@linkplain GitHubAuth#anonymous() anonymous} when no credentials are configured
   * (public repositories only, at GitHub's unauthenticated rate limit).
   */
  public GitHubSettings githubSettings() {
    GitHubAuth auth = githubAuth.orElse(GitHubAuth.anonymous());
    return GitHubSettings.builder(auth).baseUrl(githubApiUrl).build();
  }

  /**
   * The sync lanes' and worker loop's settings: every interval and limit of SPEC §6, the worker
   * threads and the lease policy; defaults for what has no variable.
   */
  public SyncSettings syncSettings() {
    return SyncSettings.builder()
        .pollEvery(pollEvery)
        .webhookDebounce(webhookDebounce)
        .minFetchInterval(minFetchInterval)
        .inventoryMaxAge(inventoryMaxAge)
        .backfillInterval(backfillInterval)
        .backfillMaxPulls(backfillMaxPrs)
        .backfillMaxRuntime(backfillMaxRuntime)
        .shutdownGrace(shutdownGrace)
        .retryBackoffBase(retryMin)
        .retryBackoffCap(retryMax)
        .workerThreads(workerThreads)
        .leasePolicy(leasePolicy)
        .build();
  }

  /** {@code CHANGESYNC_WEBHOOK_SECRET}; unset: webhooks are refused (403). */
  public Optional<Secret> webhookSecret() {
    return webhookSecret;
  }

  /**
   * {@code CHANGESYNC_ADMIN_TOKEN} (or the content of {@code CHANGESYNC_ADMIN_TOKEN_FILE}); unset:
   * admin routes are refused (403).
   */
  public Optional<Secret> adminToken() {
    return adminToken;
  }

  /**
   * {@code CHANGESYNC_READ_TOKEN} (or the content of {@code CHANGESYNC_READ_TOKEN_FILE}): the
   * bearer token of the read routes; unset: reads are open.
   */
  public Optional<Secret> readToken() {
    return readToken;
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
    return liveness;
  }

  /**
   * {@code CHANGESYNC_RELEASE_COMMIT=sync} (default {@code async}): whether a lease release waits
   * for its commit to reach disk. See {@code PostgresLeaseStore.Builder#synchronousRelease}.
   */
  public boolean synchronousRelease() {
    return synchronousRelease;
  }

  /** {@code CHANGESYNC_POLL_INTERVAL} (default 5s). */
  public Duration pollEvery() {
    return pollEvery;
  }

  /** {@code CHANGESYNC_WEBHOOK_DEBOUNCE} (default 15s). */
  public Duration webhookDebounce() {
    return webhookDebounce;
  }

  /** {@code CHANGESYNC_MIN_FETCH_INTERVAL} (default 1m). */
  public Duration minFetchInterval() {
    return minFetchInterval;
  }

  /** {@code CHANGESYNC_INVENTORY_MAX_AGE} (default 6h). */
  public Duration inventoryMaxAge() {
    return inventoryMaxAge;
  }

  /** {@code CHANGESYNC_BACKFILL_INTERVAL} (default 5s). */
  public Duration backfillInterval() {
    return backfillInterval;
  }

  /** {@code CHANGESYNC_BACKFILL_MAX_PRS} (default 1000). */
  public int backfillMaxPrs() {
    return backfillMaxPrs;
  }

  /** {@code CHANGESYNC_BACKFILL_MAX_RUNTIME} (default 30m). */
  public Duration backfillMaxRuntime() {
    return backfillMaxRuntime;
  }

  /** {@code CHANGESYNC_RETRY_MIN} (default 30s): a lane's backoff after its first failure. */
  public Duration retryMin() {
    return retryMin;
  }

  /** {@code CHANGESYNC_RETRY_MAX} (default 1h): the longest backoff of a failing lane. */
  public Duration retryMax() {
    return retryMax;
  }

  /** {@code CHANGESYNC_SHUTDOWN_GRACE} (default 30s). */
  public Duration shutdownGrace() {
    return shutdownGrace;
  }

  /**
   * {@code CHANGESYNC_MIGRATE} (default on): whether the server applies pending schema migrations
   * on start ({@link dev.changesync.engine.Changesync.Builder#migrateOnStart}).
   */
  public boolean migrate() {
    return migrate;
  }

  /** {@code CHANGESYNC_LOG_FORMAT} (default {@code text}): how the server writes its log lines. */
  public LogFormat logFormat() {
    return logFormat;
  }

  // ---------------------------------------------------------------------------------------------
  // Help and printing
  // ---------------------------------------------------------------------------------------------

  /** One line per setting: flag, variable, default and what it does — for {@code --help}. */
  public static String usage() {
    StringBuilder out = new StringBuilder();
    int width = 0;
    for (Setting s : Setting.values()) {
      width = Math.max(width, s.flag().length());
    }
    for (Setting s : Setting.values()) {
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

  /** Every setting with its effective value; secrets masked, passwords in the URL masked. */
  @Override
  public String toString() {
    StringJoiner out = new StringJoiner(", ", "ChangesyncConfig{", "}");
    out.add("databaseUrl=" + databaseUrl.map(ChangesyncConfig::redactUrl).orElse("unset"));
    out.add("databaseUser=" + databaseUser.orElse("unset"));
    out.add("databasePassword=" + masked(databasePassword));
    out.add("databasePoolSize=" + databasePoolSize);
    out.add("dataDir=" + dataDir);
    out.add("httpHost=" + httpHost);
    out.add("httpPort=" + httpPort);
    out.add(
        "httpAllowedHosts="
            + (httpAllowedHosts.isEmpty() ? "unset" : String.join(",", httpAllowedHosts)));
    out.add("role=" + role.configName());
    out.add("workerName=" + workerName);
    out.add("workerThreads=" + workerThreads);
    out.add("githubApiUrl=" + githubApiUrl);
    out.add("githubAuth=" + describeGitHubAuth());
    out.add("webhookSecret=" + masked(webhookSecret));
    out.add("adminToken=" + masked(adminToken));
    out.add("readToken=" + masked(readToken));
    out.add(
        "leasePolicy=ttl "
            + Durations.format(leasePolicy.leaseFor())
            + ", heartbeat "
            + Durations.format(leasePolicy.heartbeatEvery())
            + ", stale after "
            + Durations.format(leasePolicy.staleAfter()));
    out.add("liveness=" + (liveness ? "on" : "off"));
    out.add("releaseCommit=" + (synchronousRelease ? "sync" : "async"));
    out.add("pollInterval=" + Durations.format(pollEvery));
    out.add("webhookDebounce=" + Durations.format(webhookDebounce));
    out.add("minFetchInterval=" + Durations.format(minFetchInterval));
    out.add("inventoryMaxAge=" + Durations.format(inventoryMaxAge));
    out.add("backfillInterval=" + Durations.format(backfillInterval));
    out.add("backfillMaxPrs=" + backfillMaxPrs);
    out.add("backfillMaxRuntime=" + Durations.format(backfillMaxRuntime));
    out.add("shutdownGrace=" + Durations.format(shutdownGrace));
    out.add("retryMin=" + Durations.format(retryMin));
    out.add("retryMax=" + Durations.format(retryMax));
    out.add("migrate=" + (migrate ? "on" : "off"));
    out.add("logFormat=" + logFormat.configName());
    return out.toString();
  }

  private static String masked(Optional<Secret> secret) {
    return secret.isPresent() ? "****" : "unset";
  }

  private String describeGitHubAuth() {
    if (githubAuth.isEmpty()) {
      return "none";
    }
    if (githubAuth.get() instanceof GitHubAuth.AppInstallations app) {
      return "app "
          + app.appId()
          + " (each owner's installation) key "
          + githubAppPrivateKeyPath.map(Path::toString).orElse("?");
    }
    if (githubAuth.get() instanceof GitHubAuth.App app) {
      return "app "
          + app.appId()
          + " installation "
          + app.installationId()
          + " key "
          + githubAppPrivateKeyPath.map(Path::toString).orElse("?");
    }
    return "token ****";
  }
}
