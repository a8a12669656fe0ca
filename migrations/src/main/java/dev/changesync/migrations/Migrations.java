package dev.changesync.migrations;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.flywaydb.core.api.output.ValidateResult;

/**
 * Applies and checks the changesync schema: the Flyway migrations in {@value #LOCATION}, recorded
 * in the table {@value #HISTORY_TABLE}.
 *
 * <p>Schema compatibility is strict in both directions. A database that is <em>behind</em> this
 * build (pending migrations) is brought forward by {@link #migrate(DataSource)} and refused by
 * {@link #validate(DataSource)}; a database that is <em>ahead</em> of it (a migration version
 * applied that this build does not have, i.e. a newer changesync migrated it) is refused by both,
 * because old code writing into a newer schema is how data gets damaged.
 *
 * <p>Several processes may call {@link #migrate(DataSource)} at once (servers starting together):
 * Flyway serialises them with a PostgreSQL advisory lock and the later ones find nothing to do.
 */
public final class Migrations {

  /** Where the SQL migrations live on the classpath. */
  public static final String LOCATION = "classpath:db/migration";

  /** Flyway's history table (Flyway's default name). */
  public static final String HISTORY_TABLE = "flyway_schema_history";

  private Migrations() {}

  /**
   * Applies every pending migration. Running it on an up-to-date database changes nothing and
   * returns an empty {@link MigrationResult#appliedVersions()}.
   *
   * @throws MigrationException if the database schema is newer than this build, a migration failed,
   *     or an applied migration no longer matches this build's (checksum mismatch)
   * @throws FlywayException if the database cannot be reached
   */
  public static MigrationResult migrate(DataSource dataSource) {
    Objects.requireNonNull(dataSource, "dataSource");
    return migrate(configure().dataSource(dataSource));
  }

  /**
   * Applies pending migrations to the database at a JDBC URL (for {@link MigrationsMain}, which has
   * no pool); {@code user} and {@code password} may be null when the URL carries them.
   */
  static MigrationResult migrate(String jdbcUrl, String user, String password) {
    return migrate(configure().dataSource(jdbcUrl, user, password));
  }

  /**
   * Checks that the database schema is exactly what this build expects: every migration of this
   * build applied successfully, unchanged, and nothing newer applied.
   *
   * @throws MigrationException saying what is wrong and what to do about it
   * @throws FlywayException if the database cannot be reached
   */
  public static void validate(DataSource dataSource) {
    Objects.requireNonNull(dataSource, "dataSource");
    Optional<String> problem = problem(configure().dataSource(dataSource).load());
    if (problem.isPresent()) {
      throw new MigrationException(problem.get());
    }
  }

  /**
   * The version of the latest migration applied to the database (e.g. {@code "1"}), or empty when
   * no migration has been applied (no history table, or an empty one). The version may be newer
   * than this build knows.
   *
   * @throws FlywayException if the database cannot be reached
   */
  public static Optional<String> currentVersion(DataSource dataSource) {
    Objects.requireNonNull(dataSource, "dataSource");
    return currentVersion(configure().dataSource(dataSource).load().info());
  }

  /**
   * Whether {@link #validate(DataSource)} would pass: the schema is applied, not behind, not ahead,
   * and unchanged. Meant for readiness checks ({@code /readyz}).
   *
   * @throws FlywayException if the database cannot be reached
   */
  public static boolean isCurrent(DataSource dataSource) {
    Objects.requireNonNull(dataSource, "dataSource");
    return problem(configure().dataSource(dataSource).load()).isEmpty();
  }

  private static FluentConfiguration configure() {
    return Flyway.configure(Migrations.class.getClassLoader())
        .locations(LOCATION)
        .table(HISTORY_TABLE)
        .failOnMissingLocations(true)
        .validateMigrationNaming(true)
        .cleanDisabled(true);
  }

  private static MigrationResult migrate(FluentConfiguration configuration) {
    Flyway flyway = configuration.load();
    MigrationInfoService before = flyway.info();
    Optional<String> newer = newerSchema(before);
    if (newer.isPresent()) {
      throw new MigrationException(newer.get());
    }
    MigrateResult result;
    try {
      result = flyway.migrate();
    } catch (FlywayException e) {
      throw new MigrationException("migrating the database schema failed: " + e.getMessage(), e);
    }
    List<String> applied =
        result.migrations == null
            ? List.of()
            : result.migrations.stream()
                .filter(m -> m.version != null && !m.version.isEmpty())
                .map(m -> m.version)
                .collect(Collectors.toUnmodifiableList());
    String version =
        currentVersion(flyway.info())
            .orElseThrow(() -> new MigrationException("no migration is recorded after migrating"));
    return new MigrationResult(currentVersion(before), version, applied);
  }

  /** What keeps the schema from being current, or empty when it is current. */
  private static Optional<String> problem(Flyway flyway) {
    MigrationInfoService info = flyway.info();
    Optional<String> newer = newerSchema(info);
    if (newer.isPresent()) {
      return newer;
    }
    String supported = supportedVersion(info);
    Optional<MigrationInfo> failed =
        Arrays.stream(info.all()).filter(m -> m.getState().isFailed()).findFirst();
    if (failed.isPresent()) {
      return Optional.of(
          String.format(
              "database schema migration %s (%s) is recorded as failed; repair the database (fix"
                  + " what the migration left behind, then run Flyway repair) and migrate again",
              describe(failed.get()), failed.get().getScript()));
    }
    MigrationInfo[] pending = info.pending();
    if (pending.length > 0) {
      String names =
          Arrays.stream(pending).map(Migrations::describe).collect(Collectors.joining(", "));
      Optional<String> current = currentVersion(info);
      return Optional.of(
          current.isEmpty()
              ? String.format(
                  "database schema is not initialised (this changesync build needs version %s); "
                      + "run `changesync migrate` or start the server with migrations enabled",
                  supported)
              : String.format(
                  "database schema version %s is older than this changesync build needs (%s); "
                      + "pending: %s; run `changesync migrate`",
                  current.get(), supported, names));
    }
    ValidateResult validation = flyway.validateWithResult();
    if (!validation.validationSuccessful) {
      return Optional.of(
          "database schema does not match this changesync build's migrations: "
              + validation.getAllErrorMessages());
    }
    return Optional.empty();
  }

  private static Optional<String> newerSchema(MigrationInfoService info) {
    return Arrays.stream(info.applied())
        .filter(
            m ->
                m.getState() == MigrationState.FUTURE_SUCCESS
                    || m.getState() == MigrationState.FUTURE_FAILED)
        .map(MigrationInfo::getVersion)
        .filter(Objects::nonNull)
        .max(Comparator.naturalOrder())
        .map(
            future ->
                String.format(
                    "database schema version %s is newer than this changesync build supports (%s); "
                        + "upgrade changesync",
                    future.getVersion(), supportedVersion(info)));
  }

  /** The latest migration version this build ships. */
  private static String supportedVersion(MigrationInfoService info) {
    return Arrays.stream(info.all())
        .filter(m -> m.getVersion() != null && m.getState().isResolved())
        .map(MigrationInfo::getVersion)
        .max(Comparator.naturalOrder())
        .map(MigrationVersion::getVersion)
        .orElse("none");
  }

  private static Optional<String> currentVersion(MigrationInfoService info) {
    return Optional.ofNullable(info.current())
        .map(MigrationInfo::getVersion)
        .map(MigrationVersion::getVersion);
  }

  private static String describe(MigrationInfo migration) {
    return migration.getVersion() == null
        ? migration.getDescription()
        : "V" + migration.getVersion().getVersion() + " " + migration.getDescription();
  }
}
