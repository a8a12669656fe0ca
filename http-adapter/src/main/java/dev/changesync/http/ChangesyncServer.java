package dev.changesync.http;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.Changesync;
import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.config.Setting;
import dev.changesync.engine.config.ConfigException;
import dev.changesync.engine.config.Hosts;
import io.javalin.Javalin;
import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standalone changesync server: the HTTP API of SPEC §4 and the workers, in one process,
 * configured per SPEC §6.
 *
 * <pre>{@code
 * // From a command line (what the server jar's main does):
 * ChangesyncServer.main(args);
 *
 * // In-process, e.g. `changesync serve` or a test:
 * try (ChangesyncServer server = ChangesyncServer.start(ChangesyncConfig.from(env))) {
 *   URI api = server.baseUri(); // http://127.0.0.1:8080
 *   ...
 * }
 * }</pre>
 *
 * <h2>Roles ({@code CHANGESYNC_ROLE})</h2>
 *
 * <ul>
 *   <li>{@code all} (default): the HTTP API and the workers.
 *   <li>{@code http}: the HTTP API only; no workers, no GitHub credentials needed.
 *   <li>{@code worker}: the workers; the HTTP port still answers {@code /healthz}, {@code /readyz}
 *       and {@code /metrics} (for probes and scraping), every other path is a 404.
 * </ul>
 *
 * <h2>Start and stop</h2>
 *
 * {@link #start} builds the engine from the configuration with the server's listeners (metrics,
 * and one log line per lease claim, reclaim and loss), starts it — which applies pending schema
 * migrations unless {@code CHANGESYNC_MIGRATE=off}, and starts the workers — then starts the HTTP
 * server. {@link #close()} stops claiming new work, stops accepting connections, lets requests in flight finish (for up to
 * {@link #HTTP_DRAIN}), then closes the engine: no more claims, running passes get {@code
 * CHANGESYNC_SHUTDOWN_GRACE} to finish, every lease is released. {@link #main} does the same on
 * SIGTERM or SIGINT and then exits with status 0.
 */
public final class ChangesyncServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ChangesyncServer.class);

  /** Exit status of a bad configuration (a usage error). */
  public static final int EXIT_CONFIG = 2;

  /** Exit status when the server could not start (database unreachable, port taken, ...). */
  public static final int EXIT_START_FAILED = 1;

  /**
   * Longest time a request waits for a connection of the service pool: past it, a 503 with {@code
   * Retry-After} instead of a request that hangs behind an exhausted pool.
   */
  public static final Duration SERVICE_POOL_WAIT = Duration.ofSeconds(2);

  /** Longest time requests in flight may take to finish once the server stops. */
  public static final Duration HTTP_DRAIN = Duration.ofSeconds(5);

  private final ChangesyncConfig config;
  private final Changesync changesync;
  private final ServerMetrics metrics;
  private final Javalin http;
  private final Object closeLock = new Object();
  private final CountDownLatch closed = new CountDownLatch(1);
  private boolean closing; // guarded by closeLock

  private ChangesyncServer(
      ChangesyncConfig config, Changesync changesync, ServerMetrics metrics, Javalin http) {
    this.config = config;
    this.changesync = changesync;
    this.metrics = metrics;
    this.http = http;
  }

  /**
   * Starts a server: the engine (migrations, workers per role) and the HTTP server on {@code
   * CHANGESYNC_HTTP_HOST}:{@code CHANGESYNC_HTTP_PORT} (port 0 picks a free one: see {@link
   * #port()}). Leaves logging as it is, and installs no shutdown hook: the caller closes it.
   *
   * <p>Without {@code CHANGESYNC_DATABASE_URL} it runs the embedded PostgreSQL on {@code
   * CHANGESYNC_DATA_DIR} (stopped by {@link #close()}); without GitHub credentials its workers read
   * public repositories anonymously. Both are logged at start-up.
   *
   * @throws ConfigException when the configuration does not fit together, naming the variables
   * @throws RuntimeException when the engine or the HTTP server cannot start (its message says why)
   */
  public static ChangesyncServer start(ChangesyncConfig config) {
    requireNonNull(config, "config");
    HttpSettings settings = HttpSettings.from(config); // a bad value stops start-up here
    ServerMetrics metrics = new ServerMetrics();
    Changesync changesync;
    try {
      changesync =
          Changesync.fromConfig(config)
              .migrateOnStart(config.migrate())
              .connectionTimeout(SERVICE_POOL_WAIT)
              .leaseListener(LeaseListeners.of(new LeaseEventLog(), metrics.leaseListener()))
              .syncListener(metrics.syncListener())
              .githubListener(metrics.gitHubListener())
              .build();
    } catch (RuntimeException | Error e) {
      metrics.close();
      throw e;
    }
    Changesync engine = changesync;
    metrics.repositoryCounts(() -> engine.status().repositoryCounts());
    metrics.credentialRateLimits(() -> engine.leases().githubCredentials());
    Access access =
        new Access(
            config.readToken(),
            config.adminToken(),
            settings.host(),
            settings.allowedHosts());
    Javalin http;
    try {
      Duration grace = config.get(Setting.SHUTDOWN_GRACE);
      Duration drain = grace.compareTo(HTTP_DRAIN) < 0 ? grace : HTTP_DRAIN;
      http =
          new HttpApi(changesync, config.adminToken(), access, config.role().runsHttp(), metrics)
              .create(settings.host(), settings.port(), drain)
              .start();
    } catch (RuntimeException | Error e) {
      changesync.close();
      metrics.close();
      throw e;
    }
    // The port is bound first, so that a clash is found before anything else starts; then the
    // database is checked (migrated, or its schema validated) before any worker starts. Until
    // then /readyz answers 503 and the API "starting".
    try {
      changesync.start();
    } catch (RuntimeException | Error e) {
      http.stop();
      changesync.close();
      metrics.close();
      throw e;
    }
    ChangesyncServer server = new ChangesyncServer(config, changesync, metrics, http);
    log.info(
        "changesync server listening on {} as {} (role {}, read token {}, admin routes {},"
            + " webhooks {})",
        server.baseUri(),
        changesync.owner(),
        config.role().configName(),
        config.readToken().isPresent() ? "on" : "off",
        config.adminToken().isPresent() ? "on" : "off",
        config.webhookSecret().isPresent() ? "on" : "off");
    warnAboutOpenAccess(config, settings, access);
    return server;
  }

  /** The start-up warnings of a server that anyone on the network can read or rebind. */
  private static void warnAboutOpenAccess(
      ChangesyncConfig config, HttpSettings settings, Access access) {
    if (config.role().runsHttp()
        && config.readToken().isEmpty()
        && !Hosts.isLoopback(settings.host())) {
      log.warn(
          "reads are open to anyone who reaches {}: patches, lease tokens and worker hosts;"
              + " set CHANGESYNC_READ_TOKEN (or CHANGESYNC_READ_TOKEN_FILE)",
          settings.host());
    }
    if (access.acceptsAnyHost() && !settings.allowedHosts().contains("*")) {
      log.warn(
          "any Host header is accepted on {} (no protection against DNS rebinding); set"
              + " CHANGESYNC_HTTP_ALLOWED_HOSTS to the names clients use (* to accept any)",
          settings.host());
    }
  }

  /** The port the HTTP server listens on (the one picked when configured as 0). */
  public int port() {
    return http.port();
  }

  /** {@code http://HOST:PORT}, the address of the API (an IPv6 host in brackets). */
  public URI baseUri() {
    String host = HttpSettings.from(config).host();
    if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    return URI.create("http://" + host + ":" + port());
  }

  /** The engine this server runs (its services, owner id, readiness). */
  public Changesync changesync() {
    return changesync;
  }

  /** The configuration it was started with. */
  public ChangesyncConfig config() {
    return config;
  }

  /**
   * Stops the server: the workers stop claiming, the HTTP server stops accepting and drains (up to
   * {@link #HTTP_DRAIN}), then the engine stops its workers (running passes get the shutdown grace), releases every lease and
   * closes its pool. Safe to call more than once and from several threads; a second call waits for
   * the first.
   */
  @Override
  public void close() {
    synchronized (closeLock) {
      if (closing) {
        awaitClosedUninterruptibly();
        return;
      }
      closing = true;
    }
    try {
      log.info("changesync server stopping");
      // No pass may start while requests drain: stop claiming first.
      changesync.stopClaiming();
      try {
        http.stop();
      } catch (RuntimeException e) {
        log.warn("stopping the HTTP server failed", e);
      }
      changesync.close();
      metrics.close();
      log.info("changesync server stopped");
    } finally {
      closed.countDown();
    }
  }

  /** Blocks until {@link #close()} has finished. */
  public void awaitClosed() throws InterruptedException {
    closed.await();
  }

  private void awaitClosedUninterruptibly() {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          closed.await(1, TimeUnit.DAYS);
          if (closed.getCount() == 0) {
            return;
          }
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The process
  // ---------------------------------------------------------------------------------------------

  /**
   * The server process: configuration from the environment and {@code --flags} (flags win), logging
   * per {@code CHANGESYNC_LOG_FORMAT}, start, and a clean stop on SIGTERM / SIGINT with exit status
   * 0. A bad configuration prints one message naming the variable on standard error and exits 2; a
   * failed start exits 1.
   */
  /** This build's version (the jar manifest's {@code Implementation-Version}), else {@code dev}. */
  public static String version() {
    String v = ChangesyncServer.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  public static void main(String[] args) {
    int status = run(System.getenv(), List.of(args), System.out, System.err);
    if (status != 0) {
      System.exit(status);
    }
    // Serving: Jetty's and the workers' threads keep the JVM alive until a signal.
  }

  /**
   * What {@link #main} does, without exiting: returns 0 when the server is up (it then runs until
   * the JVM is told to stop, and a shutdown hook closes it), {@link #EXIT_CONFIG} for a bad
   * configuration or {@link #EXIT_START_FAILED} when it could not start — having printed why on
   * {@code err}. {@code --help} prints the settings on {@code out} and returns 0.
   */
  public static int run(
      Map<String, String> env, List<String> args, PrintStream out, PrintStream err) {
    requireNonNull(env, "env");
    requireNonNull(args, "args");
    if (args.contains("--help") || args.contains("-h")) {
      out.print(usage());
      return 0;
    }
    if (args.contains("--version") || args.contains("-V")) {
      out.println("changesync " + version());
      return 0;
    }
    ChangesyncConfig config;
    try {
      config = ChangesyncConfig.from(env, args, HttpSettings.SETTINGS);
    } catch (ConfigException e) {
      err.println("changesync: " + e.getMessage());
      return EXIT_CONFIG;
    }
    configureLogging(config.logFormat());
    try {
      serve(config);
      return 0;
    } catch (ConfigException e) {
      err.println("changesync: " + e.getMessage());
      return EXIT_CONFIG;
    } catch (RuntimeException | LinkageError e) {
      Optional<String> known = StartupFailure.describe(e, config);
      if (known.isPresent()) {
        // The operator's to fix, and the line says how: the stack trace only at debug level.
        log.debug("changesync server could not start", e);
        err.println("changesync: " + known.get());
        return EXIT_CONFIG;
      }
      log.error("changesync server could not start", e);
      err.println("changesync: could not start: " + e.getMessage());
      return EXIT_START_FAILED;
    }
  }

  /**
   * Starts a server and registers a JVM shutdown hook that closes it on SIGTERM / SIGINT (or
   * {@code System.exit}) and then ends the process with status 0 — a clean stop, not a crash —
   * or 1 when closing failed. For {@code main} and {@code changesync serve}.
   */
  public static ChangesyncServer serve(ChangesyncConfig config) {
    ChangesyncServer server = start(config);
    Thread hook =
        new Thread(
            () -> {
              int status = 0;
              try {
                server.close();
              } catch (RuntimeException | Error e) {
                log.error("changesync server did not stop cleanly", e);
                status = 1;
              }
              System.out.flush();
              System.err.flush();
              // The JVM would exit 143 after SIGTERM; a clean, graceful stop is a success.
              Runtime.getRuntime().halt(status);
            },
            "changesync-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    return server;
  }

  /**
   * Sets up logging as the server jar does: text or JSON lines ({@code CHANGESYNC_LOG_FORMAT}) on
   * standard output, INFO and up, libraries at WARN. Does nothing (and returns false) when the JVM
   * was given {@code -Dlogback.configurationFile=...} or logs through another SLF4J backend. For
   * {@code main} and {@code changesync serve}; {@link #start} leaves logging alone.
   */
  public static boolean configureLogging(ChangesyncConfig.LogFormat format) {
    return Logging.configure(requireNonNull(format, "format"));
  }

  /** Every setting the server reads: the engine's, then its own ({@link HttpSettings}). */
  public static List<Setting<?>> settings() {
    List<Setting<?>> all = new java.util.ArrayList<>(Setting.values());
    all.addAll(HttpSettings.SETTINGS);
    return List.copyOf(all);
  }

  /** The server's usage: how it is run and every setting, with its variable and flag. */
  public static String usage() {
    return "usage: java -jar changesync-server.jar [--flag value ...] | --version | --help\n"
        + "Every setting is an environment variable or the equivalent flag (flags win):\n"
        + ChangesyncConfig.usage(HttpSettings.SETTINGS);
  }
}
