package dev.changesync.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changesync.engine.Changesync;
import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.config.Setting;
import dev.changesync.engine.db.DataDirectoryInUseException;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.ApiJson;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.LeaseEvent;
import dev.changesync.engine.service.LeaseList;
import dev.changesync.engine.service.PullFiles;
import dev.changesync.engine.service.PullStatus;
import dev.changesync.engine.service.RecoveryResult;
import dev.changesync.engine.service.ReleasedLease;
import dev.changesync.engine.service.RepositoryList;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.engine.service.UntrackedRepository;
import dev.changesync.engine.service.ServiceException;
import dev.changesync.engine.service.UnavailableException;
import dev.changesync.engine.service.InstallationTracking;
import dev.changesync.engine.service.WorkerList;
import dev.changesync.migrations.MigrationException;
import dev.changesync.migrations.MigrationResult;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The commands' answers straight from PostgreSQL, through an embedded {@link Changesync} that runs
 * no workers and migrates nothing: the same services the server calls, so the same records, and
 * with {@link ApiJson} the same JSON. Works with no server running.
 *
 * <p>Recovery passes run as the engine's own {@code admin@<worker-name>} identity, which never
 * frees a live worker's leases.
 */
final class DatabaseBackend implements Backend {

  /**
   * The settings the CLI reads from the environment in database mode; the server's other settings
   * (GitHub, HTTP, intervals) are none of its business, and a bad one must not stop it.
   */
  private static final List<Setting<?>> SETTINGS =
      List.of(
          Setting.DATABASE_URL,
          Setting.DATABASE_USER,
          Setting.DATABASE_PASSWORD,
          Setting.WORKER_NAME,
          Setting.LIVENESS,
          // With GitHub credentials, tracking a new repository checks it on GitHub first.
          Setting.GITHUB_API_URL,
          Setting.GITHUB_ALLOW_INSECURE,
          Setting.GITHUB_TOKEN,
          Setting.GITHUB_TOKEN_FILE,
          Setting.GITHUB_APP_ID,
          Setting.GITHUB_APP_INSTALLATION_ID,
          Setting.GITHUB_APP_PRIVATE_KEY_PATH);

  private final Changesync changesync;
  private final String where;
  private final ObjectMapper mapper = ApiJson.newMapper();

  private DatabaseBackend(Changesync changesync, String where) {
    this.changesync = changesync;
    this.where = where;
  }

  /**
   * Opens the database at {@code jdbcUrl} with the user, password, worker name and liveness of
   * {@code context}'s environment. Connects lazily: an unreachable database shows on the first
   * call.
   */
  static DatabaseBackend open(String jdbcUrl, CliContext context, Duration timeout) {
    return open(new Target.Database(jdbcUrl), context, timeout);
  }

  /**
   * Opens {@code database}: an external one as above, or the embedded PostgreSQL of a data
   * directory, which this process starts (and stops on {@link #close()}).
   *
   * @throws CliException (exit 1) when a server or another command holds the data directory
   */
  static DatabaseBackend open(Target.DirectDatabase database, CliContext context, Duration timeout) {
    Target.DirectDatabase withTimeouts =
        database instanceof Target.Database d
            ? new Target.Database(withTimeouts(d.jdbcUrl(), timeout))
            : database;
    Changesync changesync =
        builder(withTimeouts, context)
            .migrateOnStart(false)
            .connectionTimeout(timeout)
            .build();
    startOrRefuse(changesync, database);
    return new DatabaseBackend(changesync, describe(database));
  }

  /** Where {@code database} is, for messages: never with a password. */
  static String describe(Target.DirectDatabase database) {
    return database instanceof Target.Database d
        ? redact(d.jdbcUrl())
        : "the embedded PostgreSQL of " + ((Target.DataDir) database).dir();
  }

  /** Starts {@code changesync}; a data directory held by another process is a one-line refusal. */
  private static void startOrRefuse(Changesync changesync, Target.DirectDatabase database) {
    try {
      changesync.start();
    } catch (DataDirectoryInUseException e) {
      changesync.close();
      throw new CliException(e.getMessage(), ExitCodes.FAILURE, e);
    } catch (MigrationException e) {
      changesync.close();
      throw e;
    } catch (IllegalStateException e) {
      changesync.close();
      if (database instanceof Target.DataDir) {
        throw new CliException(
            "cannot start " + describe(database) + ": " + rootMessage(e), ExitCodes.FAILURE, e);
      }
      throw e;
    }
  }

  /**
   * {@code jdbcUrl} with the driver's connect, login and socket timeouts set to {@code timeout}
   * (whole seconds, at least one) where the URL does not set them itself, so that an unreachable
   * or frozen database fails the command instead of hanging it.
   */
  static String withTimeouts(String jdbcUrl, Duration timeout) {
    long seconds = Math.max(1, (timeout.toMillis() + 999) / 1000);
    StringBuilder url = new StringBuilder(jdbcUrl);
    String lower = jdbcUrl.toLowerCase(java.util.Locale.ROOT);
    for (String parameter : List.of("connectTimeout", "loginTimeout", "socketTimeout")) {
      if (!lower.matches(".*[?&]" + parameter.toLowerCase(java.util.Locale.ROOT) + "=.*")) {
        url.append(url.indexOf("?") < 0 ? '?' : '&').append(parameter).append('=').append(seconds);
      }
    }
    return url.toString();
  }

  /** Applies pending migrations to the database at {@code jdbcUrl}. */
  static MigrationResult migrate(String jdbcUrl, CliContext context) {
    return migrate(new Target.Database(jdbcUrl), context);
  }

  /** Applies pending migrations to {@code database}. */
  static MigrationResult migrate(Target.DirectDatabase database, CliContext context) {
    String where = describe(database);
    try (Changesync changesync = builder(database, context).migrateOnStart(true).build()) {
      try {
        changesync.start();
      } catch (DataDirectoryInUseException e) {
        throw new CliException(e.getMessage(), ExitCodes.FAILURE, e);
      } catch (MigrationException e) {
        throw new CliException("migrating " + where + " failed: " + e.getMessage(), 1, e);
      } catch (IllegalStateException e) {
        throw new CliException("cannot migrate " + where + ": " + rootMessage(e), 1, e);
      }
      return changesync.migration().orElseThrow();
    }
  }

  private static Changesync.Builder builder(Target.DirectDatabase database, CliContext context) {
    Map<String, String> env = new HashMap<>();
    for (Setting<?> s : SETTINGS) {
      String value = context.env().get(s.envName());
      if (value != null) {
        env.put(s.envName(), value);
      }
    }
    ChangesyncConfig config;
    if (database instanceof Target.Database d) {
      config = ChangesyncConfig.from(env, Setting.DATABASE_URL.flag(), d.jdbcUrl());
    } else {
      // No database URL: Changesync.fromConfig runs the embedded PostgreSQL on the data dir.
      env.remove(Setting.DATABASE_URL.envName());
      env.remove(Setting.DATABASE_USER.envName());
      env.remove(Setting.DATABASE_PASSWORD.envName());
      config =
          ChangesyncConfig.from(
              env, Setting.DATA_DIR.flag(), ((Target.DataDir) database).dir().toString());
    }
    Changesync.Builder builder = Changesync.fromConfig(config).runWorkers(false);
    context.engineClock().ifPresent(builder::clock);
    return builder;
  }

  @Override
  public Answer<RepositoryStatus> repositoryStatus(RepoName name) {
    return answer(() -> changesync.status().repositoryStatus(name));
  }

  @Override
  public Answer<PullStatus> pullStatus(RepoName name, int number) {
    return answer(() -> changesync.status().pullStatus(name, number));
  }

  @Override
  public Answer<PullFiles> pullFiles(RepoName name, int number) {
    return answer(() -> changesync.status().pullFiles(name, number));
  }

  @Override
  public Answer<LeaseList> leases(boolean staleOnly) {
    return answer(() -> changesync.leases().leases(staleOnly));
  }

  @Override
  public Answer<List<LeaseEvent>> events(Optional<String> resource, int limit) {
    Answer<Map<String, List<LeaseEvent>>> events =
        answer(() -> Map.of("events", changesync.leases().events(resource, limit)));
    return new Answer<>(events.value().get("events"), events.json());
  }

  @Override
  public Answer<WorkerList> workers() {
    return answer(() -> changesync.leases().workers());
  }

  @Override
  public Answer<ReleasedLease> release(String resource, String lane, String actor) {
    return answer(() -> changesync.leases().release(resource, lane, actor));
  }

  @Override
  public Answer<RecoveryResult> recover() {
    return answer(() -> changesync.leases().recover());
  }

  @Override
  public Answer<RepositoryStatus> configureBackfill(
      RepoName name, BackfillMode mode, int priority) {
    return answer(() -> changesync.admin().configureBackfill(name, mode, priority));
  }

  @Override
  public Answer<InstallationTracking.TrackedInstallation> trackInstallation(
      long installationId, BackfillMode mode, int priority) {
    return answer(() -> changesync.admin().trackInstallation(installationId, mode, priority));
  }

  @Override
  public Answer<RepositoryStatus> requestFetch(RepoName name) {
    return answer(() -> changesync.admin().requestFetch(name));
  }

  @Override
  public Answer<RepositoryList> repositories(int limit, Optional<RepoName> after) {
    return answer(() -> changesync.repositories().list(limit, after));
  }

  @Override
  public Answer<UntrackedRepository> untrack(RepoName name, String actor) {
    return answer(() -> changesync.admin().untrack(name, actor));
  }

  @Override
  public String describe() {
    return where;
  }

  @Override
  public void close() {
    changesync.close();
  }

  private <T> Answer<T> answer(Supplier<T> call) {
    T value;
    try {
      value = call.get();
    } catch (UnavailableException e) {
      throw new CliException("database not reachable at " + where + ": " + rootMessage(e), 1, e);
    } catch (ServiceException e) {
      throw e;
    } catch (RuntimeException e) {
      // Most likely a schema this build does not know (never migrated, or newer): say so.
      Changesync.Readiness readiness = changesync.readiness();
      if (readiness.problem().isPresent()) {
        throw new CliException(
            "database at " + where + " is not ready: " + readiness.problem().get(), 1, e);
      }
      throw e;
    }
    try {
      return new Answer<>(value, mapper.writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + value.getClass().getSimpleName(), e);
    }
  }

  /** The JDBC URL without its query string or user info: never print a password. */
  static String redact(String jdbcUrl) {
    String url = jdbcUrl;
    int query = url.indexOf('?');
    if (query >= 0) {
      url = url.substring(0, query);
    }
    return url.replaceAll("//[^/@]*@", "//");
  }

  static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }
}
