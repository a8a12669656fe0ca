package dev.changesync.engine;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.config.Secret;
import dev.changesync.engine.config.Setting;
import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.db.EmbeddedDatabase;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.github.GitHubListener;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.github.HttpGitHub;
import dev.changesync.engine.lease.LivenessSession;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.lease.WorkerRegistry;
import dev.changesync.engine.service.AdminService;
import dev.changesync.engine.service.LeaseService;
import dev.changesync.engine.service.RepositoryCatalog;
import dev.changesync.engine.service.StatusService;
import dev.changesync.engine.service.WebhookIntake;
import dev.changesync.engine.sync.SyncListener;
import dev.changesync.engine.sync.SyncSettings;
import dev.changesync.engine.sync.Worker;
import dev.changesync.lease.LeaseListener;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.MigrationException;
import dev.changesync.migrations.MigrationResult;
import dev.changesync.migrations.Migrations;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.postgresql.Driver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * changesync inside a JVM service: the database, the lease store, the workers and the services of
 * the HTTP API and the CLI, started and closed as one.
 *
 * <pre>{@code
 * try (Changesync changesync =
 *     Changesync.builder()
 *         .jdbcUrl("jdbc:postgresql://localhost:5432/changesync?user=changesync")
 *         .github(GitHubSettings.of(GitHubAuth.token(token)))
 *         .build()
 *         .start()) {
 *   changesync.admin().configureBackfill(RepoName.parse("octocat/Hello-World"), OPEN_ONLY, 10);
 *   ...
 * }
 * }</pre>
 *
 * <h2>Lifecycle</h2>
 *
 * {@link Builder#build()} checks the settings and allocates nothing. {@link #start()} opens the
 * connection pool (when it owns one), applies pending schema migrations ({@link
 * Builder#migrateOnStart}, on by default; a schema newer than this build is refused either way),
 * takes the liveness lock, builds the lease store, and starts the {@link Worker}, which registers,
 * runs the recovery pass and starts polling. A second {@code start()} does nothing; a failed start
 * closes whatever it had opened. {@link #close()} stops the worker gracefully — no more claims,
 * running passes get {@link SyncSettings#shutdownGrace()} to finish and are cancelled after it,
 * every lease is released and the worker is marked stopped — then drops the liveness lock and
 * closes the pool it owns. It may be called any number of times, before or after {@code start()};
 * a closed instance cannot be started again.
 *
 * <h2>Roles</h2>
 *
 * With {@link Builder#runWorkers runWorkers(false)} nothing is ever claimed: an HTTP-only server,
 * or the CLI talking to the database. The services work all the same, and the {@linkplain
 * LeaseService#recover() recovery pass} then runs as an owner of its own, {@code
 * admin@<worker-name>} with a fresh incarnation, so that it can never free a live worker's leases
 * as those of "an earlier incarnation" of itself, even when both are configured with the same
 * worker name. It still frees leases whose owner's process is gone when liveness is on.
 *
 * <p>Run one engine with workers per process, or give each its own {@linkplain Builder#workerName
 * worker name}: a worker's recovery pass frees the leases of every other incarnation of its worker
 * name, which is what lets a restarted worker take its work back at once.
 *
 * <h2>Connections and liveness</h2>
 *
 * Given {@link Builder#jdbcUrl}, changesync owns three HikariCP pools, so that no kind of user can
 * starve another: one for the services (HTTP requests, CLI commands, webhooks, readiness checks),
 * one for the workers' claims, passes and maintenance, and one for heartbeats alone, whose
 * statement and socket timeouts are below stale-after (see {@code OwnedPools}). Given a {@link
 * Builder#dataSource}, it uses that for everything, as is, and never closes it; the lease runner
 * still cancels a pass at stale-after when its heartbeats hang, but a hung heartbeat call then
 * returns only when that pool's own timeouts say so.
 *
 * <p>With liveness on (the default) a worker process holds a PostgreSQL session-level advisory lock
 * for as long as it runs, so that other workers can take over its leases the moment it dies rather
 * than after stale-after. That lock lives on a dedicated connection, outside the pool: with a JDBC
 * URL a plain connection; with only a {@code DataSource}, one connection
 * borrowed from it for the life of the process — so size such a pool one larger, and do not let it
 * flag that connection as a leak. Either way it needs real sessions: behind a pooler in transaction
 * mode (PgBouncer and the like) the lock proves nothing, and liveness must be off — dead workers'
 * leases are then taken over after stale-after alone.
 *
 * <h2>Time</h2>
 *
 * Leases, sync state and the services take "now" from the database clock, the one every worker
 * shares; {@link Builder#clock} replaces it with an injected clock in tests. A GitHub client built
 * from {@link GitHubSettings} keeps the system clock for rate-limit resets and token expiry.
 */
public final class Changesync implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Changesync.class);

  /** How long {@link #readiness()} trusts a schema check that found the schema current. */
  static final Duration SCHEMA_CURRENT_CACHED_FOR = Duration.ofSeconds(30);

  /** How long {@link #readiness()} trusts a schema check that found a problem. */
  static final Duration SCHEMA_PROBLEM_CACHED_FOR = Duration.ofSeconds(5);

  /** Prefix of the worker name of an instance that runs no workers (its recovery owner). */
  public static final String ADMIN_PREFIX = "admin@";

  private enum State {
    NEW,
    STARTED,
    CLOSED
  }

  // Settings, from the builder.
  private final DataSource givenDataSource; // null: jdbcUrl or embedded
  private final Path embeddedDataDir; // null: dataSource or jdbcUrl
  private final String jdbcUrl;
  private final String user;
  private final String password;
  /**
   * How often the repositories of a GitHub App installation tracked in full are listed again (the
   * workers' housekeeping, hourly, lists those due; one worker lists each).
   */
  static final Duration INSTALLATION_RELIST_EVERY = Duration.ofHours(1);

  private final GitHubSettings githubSettings;
  private final GitHub givenGitHub;
  private final SyncSettings syncSettings;
  private final boolean liveness;
  private final boolean synchronousRelease;
  private final Duration connectionTimeout;
  private final int servicePoolSize;
  private final boolean runWorkers;
  private final boolean migrateOnStart;
  private final InstantSource clock; // null: database time
  private final SyncListener syncListener;
  private final LeaseListener leaseListener;
  private final GitHubListener githubListener;
  private final Optional<Secret> webhookSecret;
  private final OwnerId owner;
  private final Ticker ticker;

  private final Object lifecycle = new Object();
  private volatile State state = State.NEW; // written under lifecycle
  private volatile Running running; // set by a successful start()

  private final Object schemaCheck = new Object();
  private Optional<String> schemaProblem; // guarded by schemaCheck; null: never checked
  private long schemaCheckedAtNanos; // guarded by schemaCheck

  private Changesync(Builder b) {
    this.givenDataSource = b.dataSource;
    this.embeddedDataDir = b.embeddedDataDir;
    this.jdbcUrl = b.jdbcUrl;
    this.user = b.user;
    this.password = b.password;
    this.githubSettings = b.githubSettings;
    this.givenGitHub = b.github;
    this.syncSettings = b.syncSettings;
    this.liveness = b.liveness;
    this.synchronousRelease = b.synchronousRelease;
    this.connectionTimeout = b.connectionTimeout;
    this.servicePoolSize = b.servicePoolSize;
    this.runWorkers = b.runWorkers;
    this.migrateOnStart = b.migrateOnStart;
    this.clock = b.clock;
    this.syncListener = b.syncListener;
    this.leaseListener = b.leaseListener;
    this.githubListener = b.githubListener;
    this.webhookSecret = b.webhookSecret;
    this.ticker = b.ticker;
    this.owner =
        OwnerId.newIncarnation(runWorkers ? b.workerName : ADMIN_PREFIX + b.workerName);
  }

  /** A builder with every default: liveness on, workers on, migrations on start, database time. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder set from a process configuration (SPEC §6): the database URL, user and password; the
   * role ({@code http} runs no workers); worker name; GitHub API URL and credentials; the webhook
   * secret; liveness; and, through {@link ChangesyncConfig#syncSettings()}, worker threads, lease
   * policy, every interval and limit, and the shutdown grace. The HTTP host, port and admin token
   * are the HTTP adapter's, which reads them from the configuration itself.
   *
   * <p>Anything may still be changed on the builder (listeners for metrics, {@code
   * runWorkers(false)} for the CLI). Without GitHub credentials the workers read public
   * repositories {@linkplain dev.changesync.engine.github.GitHubAuth#anonymous() anonymously}.
   *
   * <p>Without a database URL it runs the {@linkplain Builder#embeddedDatabase embedded
   * PostgreSQL} on {@link ChangesyncConfig#dataDir()}.
   */
  public static Builder fromConfig(ChangesyncConfig config) {
    requireNonNull(config, "config");
    Builder b = builder();
    if (config.databaseUrl().isPresent()) {
      b.jdbcUrl(
          config.databaseUrl().get(),
          config.databaseUser().orElse(null),
          config.databasePassword().map(Secret::reveal).orElse(null));
    } else {
      b.embeddedDatabase(config.dataDir());
    }
    b.runWorkers(config.role().runsWorkers())
            .workerName(config.workerName())
            .syncSettings(SyncSettings.from(config))
            .liveness(config.liveness())
            .synchronousRelease(config.synchronousRelease())
            .servicePoolSize(config.databasePoolSize());
    b.webhookSecret = config.webhookSecret();
    b.github(GitHubSettings.from(config));
    b.config = config;
    return b;
  }

  /** Builds a {@link Changesync}; every setter checks its argument at once and names it. */
  public static final class Builder {
    private DataSource dataSource;
    private Path embeddedDataDir;
    private String jdbcUrl;
    private String user;
    private String password;
    private GitHubSettings githubSettings;
    private GitHub github;
    private SyncSettings syncSettings = SyncSettings.defaults();
    private String workerName = ChangesyncConfig.defaultWorkerName();
    private boolean liveness = true;
    private boolean synchronousRelease;
    private Duration connectionTimeout = OwnedPools.CONNECTION_TIMEOUT;
    private int servicePoolSize = OwnedPools.SERVICE_CONNECTIONS;
    private boolean runWorkers = true;
    private boolean migrateOnStart = true;
    private InstantSource clock;
    private SyncListener syncListener = SyncListener.NONE;
    private LeaseListener leaseListener = LeaseListener.NONE;
    private GitHubListener githubListener;
    private Optional<Secret> webhookSecret = Optional.empty();
    private Ticker ticker = Ticker.systemTicker();
    private ChangesyncConfig config; // set by fromConfig, for its error messages

    private Builder() {}

    /**
     * The database, through a pool the caller owns (and closes, after {@link Changesync#close()}).
     * With liveness on, one of its connections is kept for the life of the process.
     */
    public Builder dataSource(DataSource dataSource) {
      this.dataSource = requireNonNull(dataSource, "dataSource");
      return this;
    }

    /**
     * An embedded PostgreSQL that changesync starts and stops itself, its data in {@code dataDir}
     * (kept across restarts; see {@link EmbeddedDatabase}). For one machine: several processes
     * cannot share it. This is also what a builder given no database at all uses, on {@link
     * EmbeddedDatabase#defaultDataDir} of the process environment.
     */
    public Builder embeddedDatabase(Path dataDir) {
      this.embeddedDataDir = requireNonNull(dataDir, "dataDir");
      return this;
    }

    /**
     * The database by JDBC URL ({@code jdbc:postgresql://HOST:PORT/DATABASE}, user and password
     * in it if wanted): changesync opens a pool of its own, closed by {@link Changesync#close()}.
     */
    public Builder jdbcUrl(String jdbcUrl) {
      return jdbcUrl(jdbcUrl, null, null);
    }

    /**
     * The database by JDBC URL, with a user and password given apart from it; either may be null
     * (then taken from the URL, or not needed).
     */
    public Builder jdbcUrl(String jdbcUrl, String user, String password) {
      requireNonNull(jdbcUrl, "jdbcUrl");
      // Never echo the URL: it may carry a password.
      if (!jdbcUrl.startsWith("jdbc:postgresql:") || Driver.parseURL(jdbcUrl, null) == null) {
        throw new IllegalArgumentException(
            "jdbcUrl must be a PostgreSQL JDBC URL: jdbc:postgresql://HOST:PORT/DATABASE");
      }
      this.jdbcUrl = jdbcUrl;
      this.user = user;
      this.password = password;
      return this;
    }

    /**
     * How the workers reach GitHub: a client is built from these settings (with the {@link
     * #githubListener}, if any). Replaces a client given to {@link #github(GitHub)}.
     */
    public Builder github(GitHubSettings settings) {
      this.githubSettings = requireNonNull(settings, "settings");
      this.github = null;
      return this;
    }

    /**
     * The GitHub client the workers use, e.g. one built with {@link HttpGitHub#builder} and a clock
     * and sleeper of the caller's. Replaces {@link #github(GitHubSettings)}.
     */
    public Builder github(GitHub github) {
      this.github = requireNonNull(github, "github");
      this.githubSettings = null;
      return this;
    }

    /**
     * How the worker paces itself — poll interval, debounce, intervals, backfill limits, shutdown
     * grace — and also its number of threads ({@link SyncSettings#workerThreads()}) and the lease
     * policy ({@link SyncSettings#leasePolicy()}). Default {@link SyncSettings#defaults()}.
     */
    public Builder syncSettings(SyncSettings settings) {
      this.syncSettings = requireNonNull(settings, "settings");
      return this;
    }

    /**
     * The worker name of lease owners ({@code <worker-name>:<incarnation>}): stable across restarts
     * of one worker, so that a restart frees what its previous incarnation held. 1–200 characters,
     * no spaces or control characters. Default {@code <hostname>:<pid>}.
     */
    public Builder workerName(String workerName) {
      requireNonNull(workerName, "workerName");
      if (!ChangesyncConfig.isWorkerName(workerName)) {
        throw new IllegalArgumentException(
            "workerName must be 1-200 characters without spaces or control characters, got '"
                + workerName.replaceAll("\\p{Cntrl}", "?")
                + "'");
      }
      this.workerName = workerName;
      return this;
    }

    /**
     * Whether the worker holds a liveness lock, and dead owners' leases are taken over at once
     * (default on). Switch it off behind a connection pooler that does not keep sessions.
     */
    public Builder liveness(boolean liveness) {
      this.liveness = liveness;
      return this;
    }

    /**
     * Whether a lease release waits for its commit to reach disk (default off; see {@link
     * PostgresLeaseStore.Builder#synchronousRelease}).
     */
    public Builder synchronousRelease(boolean synchronousRelease) {
      this.synchronousRelease = synchronousRelease;
      return this;
    }

    /**
     * How long the services (status, admin actions, the CLI on the database) wait for a database
     * connection before failing with "database unavailable" (default 5s, at least 250ms). Only for
     * the pools changesync owns ({@link #jdbcUrl}).
     */
    public Builder connectionTimeout(Duration timeout) {
      requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("connectionTimeout must be positive: " + timeout);
      }
      this.connectionTimeout = timeout;
      return this;
    }

    /**
     * Connections of the services' pool — HTTP requests, CLI commands, webhook intake, readiness
     * checks (default {@value OwnedPools#SERVICE_CONNECTIONS}; from a configuration, {@link
     * ChangesyncConfig#databasePoolSize()}). Only for the pools changesync owns ({@link
     * #jdbcUrl}, the embedded database).
     */
    public Builder servicePoolSize(int connections) {
      if (connections < 1) {
        throw new IllegalArgumentException(
            "servicePoolSize must be at least 1: " + connections);
      }
      this.servicePoolSize = connections;
      return this;
    }

    /**
     * Whether this instance runs workers (default on). Off: an HTTP-only server or the CLI — the
     * services only, and no GitHub settings needed.
     */
    public Builder runWorkers(boolean runWorkers) {
      this.runWorkers = runWorkers;
      return this;
    }

    /**
     * Whether {@link Changesync#start()} applies pending schema migrations (default on). Off, an
     * instance that runs workers refuses to start on a schema that is not exactly current; one
     * that does not starts anyway and says so in {@link Changesync#readiness()}.
     */
    public Builder migrateOnStart(boolean migrateOnStart) {
      this.migrateOnStart = migrateOnStart;
      return this;
    }

    /**
     * Decide "now" with this clock instead of the database's — for tests. In production leave it
     * unset, so that every worker shares the database clock.
     */
    public Builder clock(InstantSource clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** Hears about every pass of the worker (for metrics). */
    public Builder syncListener(SyncListener listener) {
      this.syncListener = requireNonNull(listener, "listener");
      return this;
    }

    /** Hears about every lease transition (for metrics and logs). */
    public Builder leaseListener(LeaseListener listener) {
      this.leaseListener = requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Hears about GitHub responses, rate limits and waits (for metrics). Only for a client built
     * from {@link #github(GitHubSettings)}; give your own client its listener yourself.
     */
    public Builder githubListener(GitHubListener listener) {
      this.githubListener = requireNonNull(listener, "listener");
      return this;
    }

    /**
     * The secret GitHub signs webhooks with; without one, {@link Changesync#webhooks()} refuses
     * every delivery.
     */
    public Builder webhookSecret(String secret) {
      this.webhookSecret = Optional.of(Secret.of(requireNonNull(secret, "secret")));
      return this;
    }

    /** The monotonic clock of the readiness cache. For tests. */
    Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Checks that the settings fit together.
     *
     * @throws IllegalStateException when more than one kind of database was given, when workers are to
     *     run without GitHub settings, or when a GitHub listener is given with a ready-made client
     */
    public Changesync build() {
      int databases =
          (dataSource == null ? 0 : 1)
              + (jdbcUrl == null ? 0 : 1)
              + (embeddedDataDir == null ? 0 : 1);
      if (databases > 1) {
        throw new IllegalStateException(
            "more than one of dataSource(...), jdbcUrl(...) and embeddedDatabase(...) is set;"
                + " changesync uses one database");
      }
      if (databases == 0) {
        embeddedDataDir = EmbeddedDatabase.defaultDataDir(System.getenv());
      }
      if (runWorkers && githubSettings == null && github == null) {
        throw new IllegalStateException(
            "workers need GitHub: set github(GitHubSettings) or github(GitHub),"
                + " or runWorkers(false) for the services alone");
      }
      if (githubListener != null && github != null) {
        throw new IllegalStateException(
            "githubListener(...) applies to a client built from github(GitHubSettings);"
                + " give the client passed to github(GitHub) its listener yourself");
      }
      return new Changesync(this);
    }
  }

  /** How long accepted webhook deliveries are kept for redelivery dedupe. */
  static final Duration WEBHOOK_DELIVERY_RETENTION = WebhookIntake.DELIVERY_RETENTION;

  /** What a started instance runs; immutable once built. */
  private record Running(
      EmbeddedDatabase embedded, // null: an external database
      DataSource dataSource, // the services'
      OwnedPools ownedPools, // null: the caller's DataSource
      Jdbi jdbi,
      LivenessSession livenessSession, // null: liveness off or no workers
      Worker worker, // null: no workers
      StatusService status,
      AdminService admin,
      RepositoryCatalog repositories,
      LeaseService leases,
      WebhookIntake webhooks,
      Optional<MigrationResult> migration) {}

  // ---------------------------------------------------------------------------------------------
  // Lifecycle
  // ---------------------------------------------------------------------------------------------

  /**
   * Starts: opens the pool (if owned), migrates the schema (if asked), takes the liveness lock,
   * builds the lease store and services, and starts the worker (if asked), which registers, runs
   * the recovery pass and starts polling. Does nothing when already started. When a step fails,
   * what was opened is closed again and the instance is closed for good.
   *
   * @return this instance, for {@code try (Changesync c = builder...build().start())}
   * @throws MigrationException when the schema is newer than this build, a migration failed, or
   *     (without {@code migrateOnStart}, running workers) the schema is not current
   * @throws IllegalStateException when this instance was closed, or a step failed (the message
   *     says which, and the database's reason)
   */
  public Changesync start() {
    synchronized (lifecycle) {
      if (state == State.STARTED) {
        return this;
      }
      if (state == State.CLOSED) {
        throw new IllegalStateException(
            "this Changesync is closed (or its start failed); build a new one");
      }
      Deque<Part> opened = new ArrayDeque<>();
      try {
        running = open(opened);
        state = State.STARTED;
      } catch (RuntimeException | Error e) {
        state = State.CLOSED;
        closeAll(opened);
        throw e;
      }
    }
    log.info(
        "changesync started as {}: {}, liveness {}",
        owner,
        runWorkers ? syncSettings.workerThreads() + " worker thread(s)" : "no workers",
        liveness ? "on" : "off");
    return this;
  }

  private Running open(Deque<Part> opened) {
    DataSource dataSource = givenDataSource;
    DataSource workerDataSource = givenDataSource;
    OwnedPools pools = null;
    EmbeddedDatabase embedded = null;
    String url = jdbcUrl;
    if (embeddedDataDir != null) {
      embedded = EmbeddedDatabase.start(embeddedDataDir);
      opened.push(new Part("the embedded PostgreSQL", embedded));
      url = embedded.jdbcUrl();
      log.warn(
          "embedded PostgreSQL in use (no {}): data in {}, JDBC URL {} (for the CLI and other"
              + " local processes). It serves this machine only; for production set {} to an"
              + " external PostgreSQL and move the data with pg_dump / pg_restore (see the"
              + " README)",
          Setting.DATABASE_URL.envName(),
          embedded.dataDir(),
          url,
          Setting.DATABASE_URL.envName());
    }
    if (dataSource == null) {
      pools =
          OwnedPools.open(
              url,
              user,
              password,
              runWorkers ? syncSettings : null,
              servicePoolSize,
              connectionTimeout);
      opened.push(new Part("the connection pools", pools));
      dataSource = pools.services();
      workerDataSource = pools.workers();
    }

    Optional<MigrationResult> migration = Optional.empty();
    if (migrateOnStart) {
      migration =
          Optional.of(step("migrating the database schema", dataSource, Migrations::migrate));
      if (migration.get().changed()) {
        log.info(
            "applied schema migration(s) {}; schema version {}",
            migration.get().appliedVersions(),
            migration.get().schemaVersion());
      }
      schemaChecked(Optional.empty());
    } else if (runWorkers) {
      step(
          "checking the database schema",
          dataSource,
          ds -> {
            Migrations.validate(ds);
            return null;
          });
      schemaChecked(Optional.empty());
    }

    Jdbi jdbi = Jdbi.create(dataSource);
    LivenessSession session = null;
    if (runWorkers && liveness) {
      DataSource livenessSource = pools == null ? givenDataSource : pools.liveness();
      session =
          step("taking the liveness lock", livenessSource, ds -> LivenessSession.open(ds, owner));
      opened.push(new Part("the liveness session", session));
    }
    // The services' store (lease lists, manual release, recovery on request) and the worker's,
    // on their own pools when changesync owns them.
    PostgresLeaseStore store = leaseStore(dataSource, session, null);
    PostgresLeaseStore workerStore =
        pools == null
            ? store
            : leaseStore(workerDataSource, session, pools.heartbeats().orElse(null));
    WorkerRegistry registry =
        clock == null ? new WorkerRegistry(jdbi) : new WorkerRegistry(jdbi, clock);
    DbTime time = clock == null ? DbTime.database() : DbTime.injected(clock);
    WebhookIntake webhooks = new WebhookIntake(jdbi, time, webhookSecret);

    GitHub github = givenGitHub != null || githubSettings != null ? gitHub() : null;
    Worker worker = null;
    if (runWorkers
        && givenGitHub == null
        && githubSettings.auth() instanceof dev.changesync.engine.github.GitHubAuth.Anonymous) {
      log.warn(
          "no GitHub credentials: the workers read public repositories anonymously, at GitHub's"
              + " limit of 60 requests an hour (conditional requests answered 304 cost none), and"
              + " private repositories answer 404. Set {} (or {}, {} and {}) for private"
              + " repositories and 5,000 requests an hour",
          Setting.GITHUB_TOKEN.envName(),
          Setting.GITHUB_APP_ID.envName(),
          Setting.GITHUB_APP_INSTALLATION_ID.envName(),
          Setting.GITHUB_APP_PRIVATE_KEY_PATH.envName());
    }
    if (runWorkers) {
      Worker.Builder workerBuilder =
          Worker.builder(workerStore, github)
              .settings(syncSettings)
              .owner(owner)
              .liveness(session)
              .listener(syncListener)
              .housekeeping(
                  () -> {
                    webhooks.pruneDeliveries(WEBHOOK_DELIVERY_RETENTION);
                    new AdminService(jdbi, time, Optional.ofNullable(github))
                        .installations()
                        .relistDue(INSTALLATION_RELIST_EVERY);
                  });
      if (clock != null) {
        workerBuilder.clock(clock);
      }
      Worker built = workerBuilder.build();
      // Stop before the liveness lock goes (opened is closed last-in, first-out).
      opened.push(new Part("the worker", () -> built.stop(syncSettings.shutdownGrace())));
      step(
          "starting the worker",
          workerDataSource,
          ds -> {
            built.start();
            return null;
          });
      worker = built;
    }
    return new Running(
        embedded,
        dataSource,
        pools,
        jdbi,
        session,
        worker,
        new StatusService(jdbi, time),
        new AdminService(jdbi, time, Optional.ofNullable(github)),
        new RepositoryCatalog(jdbi, time),
        new LeaseService(
            store, store.jdbi(), registry, time, owner, WorkerRegistry.DEFAULT_SEEN_WITHIN),
        webhooks,
        migration);
  }

  private GitHub gitHub() {
    if (givenGitHub != null) {
      return givenGitHub;
    }
    HttpGitHub.Builder b = HttpGitHub.builder(githubSettings);
    if (githubListener != null) {
      b.listener(githubListener);
    }
    return b.build();
  }

  private PostgresLeaseStore leaseStore(
      DataSource dataSource, LivenessSession session, DataSource heartbeats) {
    PostgresLeaseStore.Builder b =
        PostgresLeaseStore.builder(dataSource)
            .checkOwnerLiveness(liveness)
            .synchronousRelease(synchronousRelease)
            .listener(leaseListener);
    if (session != null) {
      b.liveness(session);
    }
    if (heartbeats != null) {
      b.heartbeatDataSource(heartbeats);
    }
    if (clock != null) {
      b.clock(clock);
    }
    return b.build();
  }

  @FunctionalInterface
  private interface Step<T> {
    T run(DataSource dataSource);
  }

  /**
   * Runs one start-up step; a failure other than a {@link MigrationException} (which explains
   * itself) is reported as an {@link IllegalStateException} naming the step.
   */
  private static <T> T step(String what, DataSource dataSource, Step<T> step) {
    try {
      return step.run(dataSource);
    } catch (MigrationException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "changesync could not start: " + what + " failed: " + rootMessage(e), e);
    }
  }

  /**
   * Stops claiming new work at once, without waiting for anything: the first step of a shutdown,
   * taken before the HTTP server drains its requests so that no pass starts during the drain.
   * Running passes go on; {@link #close()} does the rest. Does nothing without a running worker.
   */
  public void stopClaiming() {
    Running r = running;
    if (r != null && r.worker() != null) {
      r.worker().stopClaiming();
    }
  }

  /**
   * Stops the worker gracefully — no more claims; running passes finish within the shutdown grace
   * or are cancelled; every lease released; the worker marked stopped — then drops the liveness
   * lock and closes the pool changesync owns. Safe to call more than once, and before {@link
   * #start()} (the instance then cannot be started any more). Keeps the interrupt flag.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (state == State.CLOSED) {
        return;
      }
      state = State.CLOSED;
      Running r = running;
      if (r == null) {
        return;
      }
      Deque<Part> parts = new ArrayDeque<>();
      if (r.embedded() != null) {
        parts.push(new Part("the embedded PostgreSQL", r.embedded()));
      }
      if (r.ownedPools() != null) {
        parts.push(new Part("the connection pools", r.ownedPools()));
      }
      if (r.livenessSession() != null) {
        parts.push(new Part("the liveness session", r.livenessSession()));
      }
      if (r.worker() != null) {
        parts.push(
            new Part(
                "the worker",
                () -> {
                  if (!r.worker().stop(syncSettings.shutdownGrace())) {
                    log.warn(
                        "passes still ran after the shutdown grace of {} and were cancelled",
                        syncSettings.shutdownGrace());
                  }
                }));
      }
      closeAll(parts);
    }
    log.info("changesync {} closed", owner);
  }

  /** Something to close, and what to call it when closing it fails. */
  private record Part(String name, AutoCloseable closeable) {}

  /** Closes the parts, last opened first; a failure is logged and the others are still closed. */
  private static void closeAll(Deque<Part> parts) {
    while (!parts.isEmpty()) {
      Part part = parts.pop();
      try {
        part.closeable().close();
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        log.warn("closing {} failed", part.name(), e);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // What a started instance offers
  // ---------------------------------------------------------------------------------------------

  private Running started() {
    Running r = running;
    State s = state;
    if (s == State.STARTED && r != null) {
      return r;
    }
    throw new IllegalStateException(
        s == State.NEW ? "Changesync is not started: call start() first" : "Changesync is closed");
  }

  /** Whether {@link #start()} has completed and {@link #close()} not begun. */
  public boolean isStarted() {
    return state == State.STARTED && running != null;
  }

  /** Repository and pull request status, snapshots and files. */
  public StatusService status() {
    return started().status();
  }

  /**
   * Tracking (checked on GitHub first when a GitHub client or settings were given), backfill
   * configuration, fetch requests and untracking.
   */
  public AdminService admin() {
    return started().admin();
  }

  /** The tracked repositories, a page at a time. */
  public RepositoryCatalog repositories() {
    return started().repositories();
  }

  /**
   * Leases, lease events, workers, manual release and the recovery pass (as {@link #owner()}). A
   * worker without a liveness lock counts as alive while seen within {@link
   * WorkerRegistry#DEFAULT_SEEN_WITHIN}.
   */
  public LeaseService leases() {
    return started().leases();
  }

  /** Signed GitHub webhooks; refuses every delivery when no webhook secret was given. */
  public WebhookIntake webhooks() {
    return started().webhooks();
  }

  /**
   * The worker, when this instance runs one and has been started (also after {@link #close()}):
   * for {@link Worker#runOnce()} in tests, or its settings.
   */
  public Optional<Worker> worker() {
    Running r = running;
    return r == null ? Optional.empty() : Optional.ofNullable(r.worker());
  }

  /**
   * Who this instance claims leases and runs recovery passes as: {@code
   * <worker-name>:<incarnation>} with workers, {@code admin@<worker-name>:<incarnation>} without.
   * Known from {@link Builder#build()} on.
   */
  public OwnerId owner() {
    return owner;
  }

  /** The embedded PostgreSQL this instance started, when it runs on one (for its JDBC URL). */
  public Optional<EmbeddedDatabase> embeddedDatabase() {
    Running r = running;
    return r == null ? Optional.empty() : Optional.ofNullable(r.embedded());
  }

  /** What {@link #start()} migrated, when it was asked to. */
  public Optional<MigrationResult> migration() {
    Running r = running;
    return r == null ? Optional.empty() : r.migration();
  }

  // ---------------------------------------------------------------------------------------------
  // Readiness
  // ---------------------------------------------------------------------------------------------

  /**
   * Whether this instance can serve: started, the database reachable, its schema exactly what this
   * build expects.
   *
   * @param databaseReachable a query went through
   * @param schemaCurrent every migration of this build applied, unchanged, nothing newer
   * @param problem what is wrong, when something is
   */
  public record Readiness(
      boolean databaseReachable, boolean schemaCurrent, Optional<String> problem) {

    public Readiness {
      requireNonNull(problem, "problem");
    }

    /** Reachable and current: ready to serve ({@code /readyz} answers 200). */
    public boolean ready() {
      return databaseReachable && schemaCurrent;
    }

    static Readiness notReady(boolean reachable, String problem) {
      return new Readiness(reachable, false, Optional.of(problem));
    }
  }

  /** How long {@link #readiness()} waits for its probe before it answers "not ready". */
  public static final Duration READINESS_BUDGET = Duration.ofMillis(900);

  private final Object probeLock = new Object();
  private java.util.concurrent.CompletableFuture<Readiness> probeInFlight; // guarded by probeLock

  /**
   * Checks readiness ({@code /readyz}) within {@link #READINESS_BUDGET}, so that a probe with a
   * one-second timeout (Kubernetes' default) gets an answer even when the database hangs: a query
   * on every call; the schema check, which is costly, at most every {@link
   * #SCHEMA_CURRENT_CACHED_FOR} while it passes and every {@link #SCHEMA_PROBLEM_CACHED_FOR} while
   * it does not. The probe runs on a thread of its own; a probe still running when the budget is
   * spent answers "database did not answer", and later calls wait for that same probe instead of
   * piling up new ones. Never throws.
   */
  public Readiness readiness() {
    java.util.concurrent.CompletableFuture<Readiness> probe;
    synchronized (probeLock) {
      if (probeInFlight == null || probeInFlight.isDone()) {
        probeInFlight =
            java.util.concurrent.CompletableFuture.supplyAsync(
                this::probeReadiness,
                task -> {
                  Thread t = new Thread(task, "changesync-readiness");
                  t.setDaemon(true);
                  t.start();
                });
      }
      probe = probeInFlight;
    }
    try {
      return probe.get(READINESS_BUDGET.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      return Readiness.notReady(
          false, "database unreachable: no answer within " + READINESS_BUDGET.toMillis() + "ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Readiness.notReady(false, "interrupted while checking readiness");
    } catch (java.util.concurrent.ExecutionException e) {
      return Readiness.notReady(false, "readiness check failed: " + rootMessage(e));
    }
  }

  private Readiness probeReadiness() {
    Running r;
    try {
      r = started();
    } catch (IllegalStateException e) {
      return Readiness.notReady(false, e.getMessage());
    }
    try {
      r.jdbi().withHandle(h -> h.createQuery("select 1").mapTo(Integer.class).one());
    } catch (RuntimeException e) {
      return Readiness.notReady(false, "database unreachable: " + rootMessage(e));
    }
    Optional<String> problem;
    try {
      problem = schemaProblem(r.dataSource());
    } catch (RuntimeException e) {
      return Readiness.notReady(false, "database unreachable: " + rootMessage(e));
    }
    return new Readiness(true, problem.isEmpty(), problem);
  }

  private Optional<String> schemaProblem(DataSource dataSource) {
    synchronized (schemaCheck) {
      if (schemaProblem != null) {
        Duration cachedFor =
            schemaProblem.isEmpty() ? SCHEMA_CURRENT_CACHED_FOR : SCHEMA_PROBLEM_CACHED_FOR;
        if (ticker.read() - schemaCheckedAtNanos < cachedFor.toNanos()) {
          return schemaProblem;
        }
      }
      Optional<String> problem;
      try {
        Migrations.validate(dataSource);
        problem = Optional.empty();
      } catch (MigrationException e) {
        problem = Optional.of(e.getMessage());
      }
      schemaChecked(problem);
      return problem;
    }
  }

  private void schemaChecked(Optional<String> problem) {
    synchronized (schemaCheck) {
      schemaProblem = problem;
      schemaCheckedAtNanos = ticker.read();
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    return message == null ? root.getClass().getSimpleName() : message;
  }

  @Override
  public String toString() {
    return "Changesync[" + owner + ", " + state.name().toLowerCase(java.util.Locale.ROOT) + "]";
  }
}
