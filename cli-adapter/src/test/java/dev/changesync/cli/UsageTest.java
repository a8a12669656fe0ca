package dev.changesync.cli;

import static dev.changesync.cli.CliRunner.cli;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** Parsing, help, version and the errors that need neither a server nor a database. */
class UsageTest {

  static List<String> commands() {
    List<String> commands = new ArrayList<>();
    collect(ChangesyncCli.commandLine(CliContext.system()), "", commands);
    return commands;
  }

  private static void collect(CommandLine cmd, String prefix, List<String> into) {
    into.add(prefix.strip());
    cmd.getSubcommands()
        .forEach((name, sub) -> collect(sub, prefix + " " + name, into));
  }

  @ParameterizedTest
  @MethodSource("commands")
  void everyCommandHasHelp(String command) {
    List<String> args = new ArrayList<>(command.isEmpty() ? List.of() : List.of(command.split(" ")));
    args.add("--help");

    CliRunner.Result r = cli().run(args.toArray(String[]::new));

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).startsWith("Usage: changesync" + (command.isEmpty() ? "" : " " + command));
    assertThat(r.err()).isEmpty();
  }

  @Test
  void theCommandsOfTheSpecExist() {
    assertThat(commands())
        .contains(
            "status",
            "pr status",
            "pr files",
            "leases",
            "leases release",
            "leases events",
            "workers",
            "backfill",
            "fetch",
            "recover",
            "migrate",
            "serve",
            "generate-completion");
  }

  @Test
  void versionNamesTheBuild() {
    CliRunner.Result r = cli().run("--version");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).startsWith("changesync 0.1.0").doesNotContain("${");
  }

  @Test
  void generatesACompletionScript() {
    CliRunner.Result r = cli().run("generate-completion");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("changesync Bash Completion").contains("leases").contains("--stale");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "status",
        "status acme",
        "status acme/",
        "status a/b/c",
        "status acme/..",
        "status -",
        "status acme/widgets extra",
        "pr status acme/widgets",
        "pr status acme/widgets 0",
        "pr status acme/widgets seven",
        "pr files acme/widgets -3",
        "leases --bogus",
        "leases release repo:1",
        "leases events --limit 0",
        "leases events --limit 5000",
        "backfill acme/widgets",
        "backfill acme/widgets --priority 1 --mode sometimes",
        "backfill acme/widgets --priority x",
        "backfill acme/widgets --priority 1 --poll-interval 0s",
        "backfill acme/widgets --priority 1 --mode off --wait",
        "frobnicate",
        "pr",
        "",
      })
  void usageErrorsExit2WithUsageOnStderr(String line) {
    String[] args = line.isEmpty() ? new String[0] : line.split(" ");

    CliRunner.Result r = cli().run(args);

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).as(r.toString()).contains("Usage: changesync");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void anInvalidRepositoryNameSaysWhy() {
    CliRunner.Result r = cli().run("status", "acme");

    assertThat(r.err().lines().findFirst())
        .hasValueSatisfying(line -> assertThat(line).contains("OWNER/REPO").contains("'acme'"));
  }

  @Test
  void serverAndDatabaseTogetherAreAUsageError() {
    CliRunner.Result r =
        cli()
            .run(
                "status",
                "acme/widgets",
                "--server",
                "http://localhost:1",
                "--database-url",
                "jdbc:postgresql://localhost/x");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("--server, --database-url and --data-dir are alternatives");
  }

  @Test
  void aBadServerUrlIsAUsageError() {
    CliRunner.Result r = cli().run("--server", "localhost:8080", "status", "acme/widgets");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("--server: 'localhost:8080' is not an http(s) URL");
  }

  @Test
  void aBadUrlInTheEnvironmentNamesTheVariable() {
    CliRunner.Result r =
        cli().env("CHANGESYNC_DATABASE_URL", "mysql://x").run("status", "acme/widgets");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err())
        .isEqualTo(
            "CHANGESYNC_DATABASE_URL: 'mysql://x' is not a PostgreSQL URL"
                + " (jdbc:postgresql://HOST:PORT/DATABASE or"
                + " postgres://USER:PASSWORD@HOST:PORT/DATABASE)\n");
  }

  @Test
  void aPostgresUrlWorksLikeItsJdbcUrl() {
    CliRunner.Result r =
        cli()
            .env("CHANGESYNC_DATABASE_URL", "postgres://nobody:s3cr%40t@127.0.0.1:1/changesync")
            .run("status", "acme/widgets", "--timeout", "1s");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.err())
        .startsWith("database not reachable at jdbc:postgresql://127.0.0.1:1/changesync")
        .doesNotContain("s3cr");
  }

  @Test
  void anUnreachableServerIsOneClearLine() throws IOException {
    int port = closedPort();
    String url = "http://127.0.0.1:" + port;

    CliRunner.Result r = cli().run("--server", url, "status", "acme/widgets");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo(
            "server not reachable at "
                + url
                + " — is it running? use --database-url to read the database directly\n");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void theDefaultServerIsLocalhost8080AndItsAbsenceIsExplained() {
    // Only meaningful when nothing listens on 8080 here.
    boolean free;
    try (ServerSocket probe = new ServerSocket(8080)) {
      free = probe.isBound();
    } catch (IOException portInUse) {
      free = false;
    }
    Assumptions.assumeTrue(free, "port 8080 is in use");

    CliRunner.Result r = cli().run("leases");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo(
            "server not reachable at http://localhost:8080 — is it running? use --database-url"
                + " to read the database directly\n");
  }

  @Test
  void adminActionsOverHttpNeedTheAdminToken() throws IOException {
    CliRunner.Result r =
        cli().run("--server", "http://127.0.0.1:" + closedPort(), "recover");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("CHANGESYNC_ADMIN_TOKEN is not set");
  }

  @Test
  void migrateNeedsTheDatabase() {
    CliRunner.Result r = cli().run("migrate");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("give --database-url JDBC_URL or --data-dir DIR, or set CHANGESYNC_DATABASE_URL or CHANGESYNC_DATA_DIR");

    CliRunner.Result withServer = cli().run("migrate", "--server", "http://localhost:8080");
    assertThat(withServer.exitCode()).isEqualTo(2);
    assertThat(withServer.err()).contains("use --database-url or --data-dir instead of --server");
  }

  static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
