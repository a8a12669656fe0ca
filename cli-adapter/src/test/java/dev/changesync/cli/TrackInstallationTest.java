package dev.changesync.cli;

import static dev.changesync.cli.CliRunner.cli;
import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.http.ChangesyncServer;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeApp;
import dev.changesync.testkit.github.FakeGitHub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code changesync track --installation ID}, against a server and straight on the database. */
class TrackInstallationTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String APP_ID = "31337";
  private static FakeGitHub keys;
  private static FakeApp app;

  @TempDir static Path dir;
  private static Path key;

  enum Mode {
    DATABASE,
    SERVER
  }

  private FakeGitHub fake;
  private ChangesyncServer server;

  @BeforeAll
  static void generateKeys() throws Exception {
    keys = FakeGitHub.start();
    app = keys.registerApp(APP_ID, 1);
    key = dir.resolve("app.pem");
    Files.writeString(key, app.privateKeyPem());
  }

  @AfterAll
  static void closeKeys() {
    keys.close();
  }

  @BeforeEach
  void start() throws Exception {
    db.truncateAllTables();
    fake = FakeGitHub.start();
    fake.registerApp(app);
    fake.install(app, "acme", 101);
    fake.createRepo("acme", "widgets");
    fake.createRepo("acme", "gadgets");
    fake.createRepo("globex", "rockets");
    Map<String, String> env = Fixtures.serverEnv(db, fake);
    env.remove("CHANGESYNC_GITHUB_TOKEN");
    env.put("CHANGESYNC_ROLE", "http");
    env.put("CHANGESYNC_GITHUB_APP_ID", APP_ID);
    env.put("CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH", key.toString());
    server = ChangesyncServer.start(ChangesyncConfig.from(env));
  }

  @AfterEach
  void stop() {
    server.close();
    fake.close();
  }

  private CliRunner.Result run(Mode mode, String... args) {
    CliRunner runner =
        switch (mode) {
          case DATABASE ->
              cli(db)
                  .env("CHANGESYNC_GITHUB_API_URL", fake.baseUrl())
                  .env("CHANGESYNC_GITHUB_APP_ID", APP_ID)
                  .env("CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH", key.toString());
          case SERVER ->
              cli()
                  .env("CHANGESYNC_SERVER_URL", server.baseUri().toString())
                  .env("CHANGESYNC_ADMIN_TOKEN", Fixtures.ADMIN_TOKEN);
        };
    return runner.run(args);
  }

  private List<String> tracked() {
    return Jdbi.create(db.dataSource())
        .withHandle(
            h ->
                h.createQuery("select full_name from repository order by full_name")
                    .mapTo(String.class)
                    .list());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void tracksEveryRepositoryOfTheInstallation(Mode mode) {
    CliRunner.Result r = run(mode, "track", "--installation", "101");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out())
        .startsWith("GitHub App installation 101: 2 repositories tracked and kept current\n")
        .contains("Newly tracked: acme/")
        .contains("acme/widgets")
        .contains("acme/gadgets");
    assertThat(tracked()).containsExactly("acme/gadgets", "acme/widgets");

    CliRunner.Result json = run(mode, "--json", "track", "--installation", "101");
    assertThat(json.exitCode()).as(json.toString()).isZero();
    assertThat(json.out()).contains("\"installation_id\":101").contains("\"added\":[]");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void anUnknownInstallationExits1(Mode mode) {
    CliRunner.Result r = run(mode, "track", "--installation", "404");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).contains("installation 404");
    assertThat(tracked()).isEmpty();
  }

  @Test
  void aRepositoryAndAnInstallationTogetherOrNeitherIsAUsageError() {
    CliRunner.Result both = run(Mode.SERVER, "track", "acme/widgets", "--installation", "101");
    assertThat(both.exitCode()).isEqualTo(2);
    assertThat(both.err()).contains("give either OWNER/REPO or --installation ID");

    CliRunner.Result neither = run(Mode.SERVER, "track");
    assertThat(neither.exitCode()).isEqualTo(2);
    assertThat(neither.err()).contains("give either OWNER/REPO or --installation ID");

    CliRunner.Result zero = run(Mode.SERVER, "track", "--installation", "0");
    assertThat(zero.exitCode()).isEqualTo(2);
    assertThat(zero.err()).contains("--installation must be a positive id, was 0");
    assertThat(tracked()).isEmpty();
  }
}
