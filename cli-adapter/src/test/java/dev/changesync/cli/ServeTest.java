package dev.changesync.cli;

import static dev.changesync.cli.CliRunner.cli;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code changesync serve} runs the server in this process with the server's settings as flags,
 * serves the CLI's own requests, and stops cleanly on Ctrl-C (the stop signal) with exit code 0.
 */
class ServeTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static String previousLogging;

  @BeforeAll
  static void keepTestLogging() {
    // serve would otherwise switch this JVM's logging to the server's (INFO on stdout).
    previousLogging = System.setProperty("logback.configurationFile", "logback-test.xml");
  }

  @AfterAll
  static void restoreLogging() {
    if (previousLogging == null) {
      System.clearProperty("logback.configurationFile");
    } else {
      System.setProperty("logback.configurationFile", previousLogging);
    }
  }

  @Test
  void servesUntilStoppedAndExitsZero() throws Exception {
    int port = UsageTest.closedPort();
    String url = "http://127.0.0.1:" + port;
    CompletableFuture<Void> ctrlC = new CompletableFuture<>();
    CompletableFuture<CliRunner.Result> serving =
        CompletableFuture.supplyAsync(
            () ->
                cli(db)
                    .stop(ctrlC)
                    .run(
                        "serve",
                        "--http-port",
                        Integer.toString(port),
                        "--role=http",
                        "--migrate",
                        "off",
                        "--admin-token",
                        "serve-admin-token"));
    CliRunner client = cli().env("CHANGESYNC_SERVER_URL", url).env("CHANGESYNC_ADMIN_TOKEN", "serve-admin-token");
    try {
      await()
          .atMost(30, SECONDS)
          .pollInterval(100, MILLISECONDS)
          .until(() -> serving.isDone() || client.run("workers").exitCode() == 0);
      assertThat(serving).as("serve is still running").isNotDone();

      CliRunner.Result tracked = client.run("backfill", "acme/served", "--priority", "1");
      assertThat(tracked.exitCode()).as(tracked.toString()).isZero();
      CliRunner.Result status = client.run("status", "acme/served");
      assertThat(status.out()).contains("Repository:             acme/served");
    } finally {
      ctrlC.complete(null);
    }

    CliRunner.Result result = serving.get(60, SECONDS);
    assertThat(result.exitCode()).as(result.toString()).isZero();
    CliRunner.Result gone = client.run("workers");
    assertThat(gone.exitCode()).isEqualTo(1);
    assertThat(gone.err()).startsWith("server not reachable at " + url);
  }

  @Test
  void aBadSettingIsAUsageErrorNamingTheFlag() {
    CliRunner.Result r = cli(db).run("serve", "--http-port", "eighty");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).isEqualTo("--http-port: 'eighty' is not a whole number\n");
  }

  @Test
  void workersWithoutGitHubCredentialsRunAnonymously() {
    CompletableFuture<Void> ctrlC = new CompletableFuture<>();
    ctrlC.complete(null); // stop as soon as it serves
    CliRunner.Result r =
        cli(db).stop(ctrlC).run("serve", "--http-port", "0", "--role", "worker");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    CliRunner.Result workers = cli(db).run("workers");
    assertThat(workers.out()).as(workers.toString()).contains("stopped");
  }

  @Test
  void serveWithServerIsAUsageError() throws IOException {
    CliRunner.Result r = cli(db).run("serve", "--server", "http://127.0.0.1:" + UsageTest.closedPort());

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("serve starts a server; --server names one to talk to");
  }

  @Test
  void aServerThatCannotStartExits1() throws IOException {
    int closed = UsageTest.closedPort();
    CliRunner.Result r =
        cli()
            .run(
                "serve",
                "--database-url",
                "jdbc:postgresql://127.0.0.1:" + closed + "/nothing?user=postgres&connectTimeout=1",
                "--http-port",
                "0",
                "--role",
                "http");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).startsWith("the server could not start: ");
    assertThat(r.err().lines()).hasSize(1);
  }
}
