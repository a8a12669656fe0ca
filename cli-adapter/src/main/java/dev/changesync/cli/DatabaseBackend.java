package dev.changesync.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changesync.engine.Changesync;
import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.config.Setting;
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
  private static final List<Setting> SETTINGS =
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
    Changesync changesync =
        builder(withTimeouts(jdbcUrl, timeout), context)
            .migrateOnStart(false)
            .connectionTimeout(timeout)
            .build()
            .start();
    return new DatabaseBackend(changesync, redact(jdbcUrl));
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
    try (Changesync changesync = builder(jdbcUrl, context).migrateOnStart(true).build()) {
      try {
        changesync.start();
      } catch (MigrationException e) {
        throw new CliException("migrating " + redact(jdbcUrl) + " failed: " + e.getMessage(), 1, e);
      } catch (IllegalStateException e) {
        throw new CliException("cannot migrate " + redact(jdbcUrl) + ": " + rootMessage(e), 1, e);
      }
      return changesync.migration().orElseThrow();
    }
  }

  private static Changesync.Builder builder(String jdbcUrl, CliContext context) {
    Map<String, String> env = new HashMap<>();
    for (Setting s : SETTINGS) {
      String value = context.env().get(s.envName());
      if (value != null) {
        env.put(s.envName(), value);
      }
    }
    ChangesyncConfig config =
        ChangesyncConfig.from(env, Setting.DATABASE_URL.flag(), jdbcUrl);
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
