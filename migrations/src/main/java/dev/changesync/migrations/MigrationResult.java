package dev.changesync.migrations;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@link Migrations#migrate(javax.sql.DataSource)} did.
 *
 * @param previousVersion the schema version before migrating; empty for a new database
 * @param schemaVersion the schema version now
 * @param appliedVersions the versions applied by this call, in order; empty when the schema was
 *     already current
 */
public record MigrationResult(
    Optional<String> previousVersion, String schemaVersion, List<String> appliedVersions) {

  public MigrationResult {
    Objects.requireNonNull(previousVersion, "previousVersion");
    Objects.requireNonNull(schemaVersion, "schemaVersion");
    appliedVersions = List.copyOf(appliedVersions);
  }

  /** Whether this call applied anything. */
  public boolean changed() {
    return !appliedVersions.isEmpty();
  }
}
