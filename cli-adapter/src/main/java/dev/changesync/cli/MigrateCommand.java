package dev.changesync.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.changesync.engine.service.ApiJson;
import dev.changesync.migrations.MigrationResult;
import picocli.CommandLine.Command;

/** {@code changesync migrate}: database mode only. */
@Command(
    name = "migrate",
    description =
        "Apply pending schema migrations to the database (--database-url or"
            + " CHANGESYNC_DATABASE_URL; or the embedded PostgreSQL of --data-dir or"
            + " CHANGESYNC_DATA_DIR). Refuses a schema newer than this build.")
final class MigrateCommand extends CliCommand {

  @Override
  public Integer call() throws JsonProcessingException {
    Target.DirectDatabase database = cli().database(spec.commandLine());
    MigrationResult result = DatabaseBackend.migrate(database, context());
    if (json()) {
      out().println(ApiJson.newMapper().writeValueAsString(result));
    } else {
      out().print(Formats.migrated(result, DatabaseBackend.describe(database)));
    }
    out().flush();
    return ExitCodes.OK;
  }
}
