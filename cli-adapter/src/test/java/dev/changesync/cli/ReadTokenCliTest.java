package dev.changesync.cli;

import static dev.changesync.cli.CliRunner.cli;
import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.http.ChangesyncServer;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The CLI against a server whose reads need {@code CHANGESYNC_READ_TOKEN}. */
class ReadTokenCliTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String READ_TOKEN = "cli-test-read-token";

  private static ChangesyncServer server;

  @BeforeAll
  static void start() {
    Map<String, String> env = Fixtures.serverEnv(db, null);
    env.put("CHANGESYNC_READ_TOKEN", READ_TOKEN);
    server = ChangesyncServer.start(ChangesyncConfig.from(env));
    CliRunner.Result tracked =
        client()
            .env("CHANGESYNC_ADMIN_TOKEN", Fixtures.ADMIN_TOKEN)
            .run("backfill", "acme/guarded", "--priority", "1");
    assertThat(tracked.exitCode()).as(tracked.toString()).isZero();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static CliRunner client() {
    return cli().env("CHANGESYNC_SERVER_URL", server.baseUri().toString());
  }

  @Test
  void readCommandsWorkWithTheReadToken() {
    CliRunner reader = client().env("CHANGESYNC_READ_TOKEN", READ_TOKEN);

    CliRunner.Result status = reader.run("status", "acme/guarded");
    assertThat(status.exitCode()).as(status.toString()).isZero();
    assertThat(status.out()).contains("acme/guarded");
    for (List<String> command :
        List.of(
            List.of("workers"),
            List.of("leases"),
            List.of("leases", "events"),
            List.of("status", "acme/guarded", "--json"))) {
      CliRunner.Result r = reader.run(command.toArray(String[]::new));
      assertThat(r.exitCode()).as(command + ": " + r).isZero();
    }
  }

  @Test
  void withoutTheReadTokenReadsAreRefusedInOneLine() {
    CliRunner.Result r = client().run("status", "acme/guarded");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo(
            "the server at "
                + server.baseUri()
                + " refused to let us read: missing Authorization header: Bearer <read token>"
                + " (set CHANGESYNC_READ_TOKEN to the server's read or admin token)\n");
  }

  @Test
  void theAdminTokenAsReadTokenReadsAndAWrongOneIsRefused() {
    CliRunner.Result asAdmin =
        client().env("CHANGESYNC_READ_TOKEN", Fixtures.ADMIN_TOKEN).run("workers");
    CliRunner.Result wrong =
        client().env("CHANGESYNC_READ_TOKEN", "not-the-read-token").run("workers");

    assertThat(asAdmin.exitCode()).as(asAdmin.toString()).isZero();
    assertThat(wrong.exitCode()).isEqualTo(1);
    assertThat(wrong.err()).contains("refused to let us read: invalid read token");
  }
}
