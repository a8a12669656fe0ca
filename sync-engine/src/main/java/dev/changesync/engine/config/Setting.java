package dev.changesync.engine.config;

import java.util.Locale;
import java.util.Optional;

/**
 * Every setting of changesync (SPEC §6): its environment variable, its command-line flag (the
 * variable without {@code CHANGESYNC_}, lower case, dashes: {@code CHANGESYNC_HTTP_PORT} ↔ {@code
 * --http-port}), its default and whether it is a secret. {@link ChangesyncConfig} parses them.
 */
public enum Setting {
  DATABASE_URL(null, false, "JDBC URL of the PostgreSQL database (user/password may be in it)"),
  DATABASE_USER(null, false, "database user, when not in the URL"),
  DATABASE_PASSWORD(null, true, "database password, when not in the URL"),
  DATABASE_PASSWORD_FILE(
      null, false, "file holding the database password (instead of the variable)"),
  DATABASE_POOL_SIZE(
      null,
      false,
      "connections of the service pool (HTTP requests, webhooks, readiness); default http 10,"
          + " all max(4, min(10, worker threads + 2)), worker 2"),
  DATA_DIR(
      null,
      false,
      "data of the embedded PostgreSQL, used when no database URL is set (default"
          + " $XDG_DATA_HOME/changesync, else ~/.local/share/changesync)"),
  HTTP_HOST("127.0.0.1", false, "address the HTTP server binds"),
  HTTP_PORT("8080", false, "port of the HTTP server (0 picks a free one)"),
  HTTP_ALLOWED_HOSTS(
      null,
      false,
      "comma-separated Host names the server answers besides its bind address, localhost and IPs"),
  ROLE("all", false, "all | http | worker: what this process runs"),
  WORKER_NAME(null, false, "stable name of this worker (default <hostname>:<pid>)"),
  WORKER_THREADS("2", false, "lanes this worker runs at the same time"),
  GITHUB_API_URL(
      "https://api.github.com", false, "GitHub REST base URL (GHES: https://HOST/api/v3)"),
  GITHUB_ALLOW_INSECURE(
      "false", false, "true: allow a plain http:// GitHub API URL to a host other than loopback"),
  GITHUB_TOKEN(null, true, "GitHub personal access token"),
  GITHUB_TOKEN_FILE(null, false, "file holding the GitHub token (instead of the variable)"),
  GITHUB_APP_ID(null, false, "GitHub App id (with installation id and private key path)"),
  GITHUB_APP_INSTALLATION_ID(
      null, false, "GitHub App installation id (unset: each repository owner's installation is found)"),
  GITHUB_APP_PRIVATE_KEY_PATH(null, false, "path of the GitHub App's private key (PEM)"),
  WEBHOOK_SECRET(null, true, "secret of GitHub webhooks; unset: the webhook route answers 403"),
  WEBHOOK_SECRET_FILE(null, false, "file holding the webhook secret (instead of the variable)"),
  ADMIN_TOKEN(null, true, "bearer token of the admin routes; unset: they answer 403"),
  ADMIN_TOKEN_FILE(null, false, "file holding the admin token (instead of the variable)"),
  READ_TOKEN(
      null,
      true,
      "bearer token of the read routes (the admin token also reads); unset: reads are open"),
  READ_TOKEN_FILE(null, false, "file holding the read token (instead of the variable)"),
  LEASE_TTL("15m", false, "lease time-to-live"),
  HEARTBEAT_INTERVAL(null, false, "lease heartbeat interval (default TTL/6 in [200ms, 10s])"),
  STALE_AFTER(null, false, "lease stale-after (default max(3 x heartbeat, 1s))"),
  LIVENESS("on", false, "on | off: fast crash detection through session advisory locks"),
  RELEASE_COMMIT(
      "async", false, "async | sync: whether a lease release waits for its commit to reach disk"),
  POLL_INTERVAL("5s", false, "how often an idle worker looks for work"),
  WEBHOOK_DEBOUNCE("15s", false, "how long a dirty repository waits before its fetch"),
  MIN_FETCH_INTERVAL("1m", false, "least time between two fetches of one repository"),
  INVENTORY_MAX_AGE("6h", false, "a repository's inventory older than this is rescanned"),
  BACKFILL_INTERVAL("5s", false, "pause between backfill passes of one repository"),
  BACKFILL_MAX_PRS("1000", false, "pull requests rebuilt per backfill pass at most"),
  BACKFILL_MAX_RUNTIME("30m", false, "longest backfill pass"),
  SHUTDOWN_GRACE("30s", false, "how long running passes may finish on shutdown"),
  RETRY_MIN("30s", false, "backoff of a lane after its first failure (doubles per further failure)"),
  RETRY_MAX("1h", false, "longest backoff of a failing lane"),
  MIGRATE("on", false, "on | off: apply pending schema migrations on start"),
  LOG_FORMAT("text", false, "text | json: the server's log lines (json: one object per line)");

  private static final String PREFIX = "CHANGESYNC_";

  private final String defaultValue;
  private final boolean secret;
  private final String description;

  Setting(String defaultValue, boolean secret, String description) {
    this.defaultValue = defaultValue;
    this.secret = secret;
    this.description = description;
  }

  /** The environment variable, e.g. {@code CHANGESYNC_HTTP_PORT}. */
  public String envName() {
    return PREFIX + name();
  }

  /** The command-line flag, e.g. {@code --http-port}. */
  public String flag() {
    return "--" + name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The default as text, or empty when the setting has none (or a computed one). */
  public Optional<String> defaultValue() {
    return Optional.ofNullable(defaultValue);
  }

  /** True for tokens and passwords: never printed. */
  public boolean secret() {
    return secret;
  }

  public String description() {
    return description;
  }

  /** The setting of a flag ({@code --http-port}), or empty. */
  public static Optional<Setting> ofFlag(String flag) {
    for (Setting s : values()) {
      if (s.flag().equals(flag)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }
}
