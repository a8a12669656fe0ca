package dev.changesync.engine.config;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.config.ChangesyncConfig.Role;
import dev.changesync.engine.db.EmbeddedDatabase;
import dev.changesync.lease.LeasePolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns the environment and {@code --flags} into the values of every {@link Setting}: each one by
 * its own parser, then the rules that join several (a secret or its file, the GitHub credentials,
 * the lease policy, the computed defaults). Every problem is collected, each naming the variable or
 * the flag it came from.
 */
final class ConfigParser {

  /** A value as given, and where it came from (the variable or the flag), for messages. */
  private record Raw(String source, String value) {}

  /** How strictly a secret is checked. */
  private enum SecretRule {
    /** Any non-empty value (passwords). */
    ANY,
    /** Printable ASCII without spaces, as a bearer token sent to GitHub must be. */
    BEARER,
    /** No leading or trailing whitespace (the webhook secret). */
    TRIMMED,
    /** No surrounding whitespace and at least {@value ChangesyncConfig#MIN_TOKEN_LENGTH} chars. */
    TOKEN
  }

  final List<Setting<?>> settings;
  final Map<Setting<?>, Raw> raw = new IdentityHashMap<>();
  final Map<Setting<?>, Object> values = new LinkedHashMap<>();
  final List<String> problems = new ArrayList<>();
  Optional<PrivateKey> githubAppKey = Optional.empty();
  private Map<String, String> env = Map.of();

  /** A parser of {@code settings}: the engine's and those declared by the caller. */
  ConfigParser(List<Setting<?>> settings) {
    this.settings = List.copyOf(settings);
  }

  void collect(Map<String, String> env, List<String> args) {
    this.env = env;
    for (Setting<?> s : settings) {
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
      Optional<Setting<?>> setting = ofFlag(flag);
      if (setting.isEmpty()) {
        problems.add("unknown option " + Durations.printable(flag));
        continue;
      }
      if (value == null) {
        boolean next = i + 1 < args.size();
        if (!next || ofFlag(args.get(i + 1).split("=", 2)[0]).isPresent()) {
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

  private Optional<Setting<?>> ofFlag(String flag) {
    return settings.stream().filter(s -> s.flag().equals(flag)).findFirst();
  }

  /** Parses the settings declared outside the engine only (they are not secrets). */
  void parseOwnOnly() {
    for (Setting<?> s : settings) {
      text(s).ifPresent(text -> parseOne(s, text));
    }
  }

  void parse() {
    for (Setting<?> s : settings) {
      if (!s.secret()) {
        text(s).ifPresent(text -> parseOne(s, text));
      }
    }
    secret(Setting.DATABASE_PASSWORD, Setting.DATABASE_PASSWORD_FILE, SecretRule.ANY);
    secret(Setting.WEBHOOK_SECRET, Setting.WEBHOOK_SECRET_FILE, SecretRule.TRIMMED);
    secret(Setting.ADMIN_TOKEN, Setting.ADMIN_TOKEN_FILE, SecretRule.TOKEN);
    secret(Setting.READ_TOKEN, Setting.READ_TOKEN_FILE, SecretRule.TOKEN);
    computedDefaults();
    githubApiUrl();
    githubCredentials();
    leasePolicy();
    Duration retryMin = value(Setting.RETRY_MIN, Duration.ofSeconds(1));
    Duration retryMax = value(Setting.RETRY_MAX, Duration.ofSeconds(1));
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
  }

  private void computedDefaults() {
    values.computeIfAbsent(Setting.DATA_DIR, s -> EmbeddedDatabase.defaultDataDir(env));
    values.computeIfAbsent(Setting.WORKER_NAME, s -> ChangesyncConfig.defaultWorkerName());
    if (!raw.containsKey(Setting.DATABASE_POOL_SIZE)) {
      values.put(
          Setting.DATABASE_POOL_SIZE,
          ChangesyncConfig.defaultDatabasePoolSize(
              value(Setting.ROLE, Role.ALL), value(Setting.WORKER_THREADS, 1)));
    }
  }

  private <T> void parseOne(Setting<T> s, String text) {
    try {
      values.put(s, s.parse(text));
    } catch (Setting.BadValues e) {
      e.problems().forEach(p -> problems.add(source(s) + ": " + p));
    } catch (IllegalArgumentException e) {
      problems.add(source(s) + ": " + e.getMessage());
    }
  }

  private String source(Setting<?> s) {
    Raw r = raw.get(s);
    return r == null ? s.envName() : r.source();
  }

  /** The given value, stripped, or the default; empty when neither. */
  private Optional<String> text(Setting<?> s) {
    Raw r = raw.get(s);
    if (r != null) {
      return Optional.of(r.value().strip());
    }
    return s.defaultValue();
  }

  /** The parsed value, or {@code fallback} when it is unset or bad (a problem is recorded). */
  @SuppressWarnings("unchecked")
  private <T> T value(Setting<T> s, T fallback) {
    Object v = values.get(s);
    return v == null ? fallback : (T) v;
  }

  /**
   * A secret from its variable (or flag) {@code s} or from the file named by {@code file}, not
   * both, checked per {@code rule}; no value when neither is set or it is unusable (a problem).
   */
  private void secret(Setting<Secret> s, Setting<String> file, SecretRule rule) {
    Raw direct = raw.get(s);
    Raw path = raw.get(file);
    if (direct != null && path != null) {
      problems.add(source(s) + " and " + source(file) + " are both set; use one of them");
      return;
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
        return;
      }
    } else {
      return;
    }
    String problem = check(value, rule);
    if (problem != null) {
      problems.add(from + ": " + problem);
      return;
    }
    values.put(s, Secret.of(value));
  }

  private static String check(String value, SecretRule rule) {
    if (rule == SecretRule.BEARER) {
      return Secret.bearerTokenProblem(value).orElse(null);
    }
    if (rule != SecretRule.ANY && !value.equals(value.strip())) {
      return "starts or ends with whitespace; remove it (the value is compared exactly,"
          + " and a stray space or newline is usually a copy-paste slip)";
    }
    if (rule == SecretRule.TOKEN && value.length() < ChangesyncConfig.MIN_TOKEN_LENGTH) {
      return "too short ("
          + value.length()
          + " characters); use at least "
          + ChangesyncConfig.MIN_TOKEN_LENGTH
          + ", e.g. from openssl rand -hex 32";
    }
    return null;
  }

  private void githubApiUrl() {
    Setting<Boolean> allowInsecure = Setting.GITHUB_ALLOW_INSECURE;
    var url = values.get(Setting.GITHUB_API_URL);
    if (url instanceof java.net.URI uri
        && !value(allowInsecure, false)
        && uri.getScheme().equalsIgnoreCase("http")
        && !Hosts.isLoopback(uri.getHost())) {
      problems.add(
          source(Setting.GITHUB_API_URL)
              + ": '"
              + Durations.printable(uri.toString())
              + "' is plain http to a host that is not loopback (the GitHub credentials would"
              + " cross the network unencrypted); use https, or set "
              + allowInsecure.envName()
              + "=true");
    }
  }

  /** A token or an App (id, private key, maybe an installation), not both; the key read now. */
  private void githubCredentials() {
    Setting<?>[] app = {
      Setting.GITHUB_APP_ID, Setting.GITHUB_APP_INSTALLATION_ID, Setting.GITHUB_APP_PRIVATE_KEY_PATH
    };
    boolean anyApp = false;
    for (Setting<?> s : app) {
      anyApp |= text(s).isPresent();
    }
    boolean anyToken =
        raw.containsKey(Setting.GITHUB_TOKEN) || raw.containsKey(Setting.GITHUB_TOKEN_FILE);
    if (anyToken && anyApp) {
      Setting<?> given =
          raw.containsKey(Setting.GITHUB_TOKEN) ? Setting.GITHUB_TOKEN : Setting.GITHUB_TOKEN_FILE;
      problems.add(
          source(given)
              + ": a GitHub token and GitHub App settings are both set; use one or the other");
      for (Setting<?> s : app) {
        values.remove(s);
      }
      return;
    }
    if (anyToken) {
      secret(Setting.GITHUB_TOKEN, Setting.GITHUB_TOKEN_FILE, SecretRule.BEARER);
      return;
    }
    if (!anyApp) {
      return;
    }
    List<String> missing = new ArrayList<>();
    for (Setting<?> s : List.of(Setting.GITHUB_APP_ID, Setting.GITHUB_APP_PRIVATE_KEY_PATH)) {
      if (text(s).isEmpty()) {
        missing.add(s.envName() + " (" + s.flag() + ")");
      }
    }
    if (!missing.isEmpty()) {
      problems.add(
          "GitHub App settings are incomplete: "
              + String.join(" and ", missing)
              + (missing.size() == 1 ? " is" : " are")
              + " missing (an app needs its id and private key path; without "
              + Setting.GITHUB_APP_INSTALLATION_ID.envName()
              + " each repository owner's installation is found)");
      return;
    }
    Path key = value(Setting.GITHUB_APP_PRIVATE_KEY_PATH, null);
    boolean badInstallation =
        text(Setting.GITHUB_APP_INSTALLATION_ID).isPresent()
            && !values.containsKey(Setting.GITHUB_APP_INSTALLATION_ID);
    if (!values.containsKey(Setting.GITHUB_APP_ID) || key == null || badInstallation) {
      return;
    }
    try {
      // Read and parsed now, so that a bad key stops start-up naming the setting.
      githubAppKey =
          Optional.of(PemKeys.privateKey(Files.readString(key, StandardCharsets.US_ASCII)));
    } catch (IllegalArgumentException | IOException e) {
      String reason =
          e instanceof IOException
              ? "cannot read the GitHub App private key " + key + ": " + e.getMessage()
              : key + ": " + e.getMessage();
      problems.add(
          source(Setting.GITHUB_APP_PRIVATE_KEY_PATH)
              + ": '"
              + Durations.printable(key.toString())
              + "' holds no usable private key ("
              + Durations.printable(reason)
              + ")");
    }
  }

  private void leasePolicy() {
    Duration ttl = value(Setting.LEASE_TTL, null);
    boolean heartbeatOk =
        text(Setting.HEARTBEAT_INTERVAL).isEmpty()
            || values.containsKey(Setting.HEARTBEAT_INTERVAL);
    boolean staleOk =
        text(Setting.STALE_AFTER).isEmpty() || values.containsKey(Setting.STALE_AFTER);
    LeasePolicy policy = LeasePolicy.defaults();
    if (ttl != null && heartbeatOk && staleOk) {
      try {
        policy =
            LeasePolicy.withDefaults(
                ttl, value(Setting.HEARTBEAT_INTERVAL, null), value(Setting.STALE_AFTER, null));
      } catch (IllegalArgumentException e) {
        // LeasePolicy names its parameters; say which settings they came from.
        problems.add(
            e.getMessage()
                .replaceAll("\\bleaseFor\\b", source(Setting.LEASE_TTL))
                .replaceAll("\\bheartbeatEvery\\b", source(Setting.HEARTBEAT_INTERVAL))
                .replaceAll("\\bstaleAfter\\b", source(Setting.STALE_AFTER)));
      }
    }
    values.put(Setting.HEARTBEAT_INTERVAL, policy.heartbeatEvery());
    values.put(Setting.STALE_AFTER, policy.staleAfter());
    values.put(Setting.LEASE_TTL, policy.leaseFor());
  }
}
