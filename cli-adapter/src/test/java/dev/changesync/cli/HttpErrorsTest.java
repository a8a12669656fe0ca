package dev.changesync.cli;

import static dev.changesync.cli.CliRunner.cli;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.http.ChangesyncServer;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the CLI makes of a server's refusals and of answers that are not changesync's: one line on
 * stderr, exit code 1 (2 for the server's 400), and the admin token only where it belongs.
 */
class HttpErrorsTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private HttpServer stub;
  private final List<String> authorizations = new CopyOnWriteArrayList<>();

  @AfterEach
  void stopStub() {
    if (stub != null) {
      stub.stop(0);
    }
  }

  /** A server that answers every request with {@code status}, {@code contentType} and {@code body}. */
  private String stub(int status, String contentType, String body) throws IOException {
    stub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    stub.createContext(
        "/",
        exchange -> {
          String auth = exchange.getRequestHeaders().getFirst("Authorization");
          authorizations.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " " + auth);
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", contentType);
          exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        });
    stub.start();
    return "http://127.0.0.1:" + stub.getAddress().getPort();
  }

  @Test
  void aWrongAdminTokenIsRefused() {
    try (ChangesyncServer server = Fixtures.server(db, null)) {
      CliRunner.Result r =
          cli()
              .env("CHANGESYNC_SERVER_URL", server.baseUri().toString())
              .env("CHANGESYNC_ADMIN_TOKEN", "not-the-token")
              .run("recover");

      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(r.err())
          .isEqualTo(
              "the server at "
                  + server.baseUri()
                  + " refused the admin token: invalid admin token (check CHANGESYNC_ADMIN_TOKEN)\n");
    }
  }

  @Test
  void aServerWithoutAnAdminTokenRefusesAdminActions() {
    Map<String, String> env = new java.util.HashMap<>(Fixtures.serverEnv(db, null));
    env.remove("CHANGESYNC_ADMIN_TOKEN");
    try (ChangesyncServer server = ChangesyncServer.start(ChangesyncConfig.from(env))) {
      CliRunner.Result r =
          cli()
              .env("CHANGESYNC_SERVER_URL", server.baseUri().toString())
              .env("CHANGESYNC_ADMIN_TOKEN", "anything")
              .run("leases", "release", "repo:1", "fetch");

      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(r.err())
          .startsWith("the server at " + server.baseUri() + " refused: admin routes are off");
    }
  }

  @Test
  void theAdminTokenGoesOnlyWithAdminActions() throws IOException {
    String url = stub(200, "application/json", "{\"events\":[]}");
    CliRunner runner =
        cli().env("CHANGESYNC_SERVER_URL", url).env("CHANGESYNC_ADMIN_TOKEN", "t0ken");

    runner.run("leases", "events", "repo:7", "--limit", "5");
    runner.run("recover");

    assertThat(authorizations)
        .containsExactly(
            "GET /v1/changes/leases/events?resource=repo%3A7&limit=5 null",
            "POST /v1/changes/recover Bearer t0ken");
  }

  @Test
  void theReadTokenGoesWithReadsAndTheAdminTokenWithAdminActions() throws IOException {
    String url = stub(200, "application/json", "{\"events\":[]}");
    CliRunner runner =
        cli()
            .env("CHANGESYNC_SERVER_URL", url)
            .env("CHANGESYNC_ADMIN_TOKEN", "admin-t0ken")
            .env("CHANGESYNC_READ_TOKEN", "read-t0ken");

    runner.run("leases", "events", "repo:7", "--limit", "5");
    runner.run("recover");

    assertThat(authorizations)
        .containsExactly(
            "GET /v1/changes/leases/events?resource=repo%3A7&limit=5 Bearer read-t0ken",
            "POST /v1/changes/recover Bearer admin-t0ken");
  }

  @Test
  void anAnswerThatIsNotChangesyncsSaysSo() throws IOException {
    String url = stub(200, "text/html", "<html>hello</html>");

    CliRunner.Result r = cli().env("CHANGESYNC_SERVER_URL", url).run("workers");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo(
            "unexpected answer from "
                + url
                + "/v1/changes/workers (HTTP 200, text/html): not changesync's JSON — is "
                + url
                + " a changesync server?\n");
  }

  @Test
  void aServerWithoutItsDatabaseSaysSo() throws IOException {
    String url = stub(503, "application/json", "{\"message\":\"database unavailable: refused\"}");

    CliRunner.Result r = cli().env("CHANGESYNC_SERVER_URL", url).run("status", "acme/widgets");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo(
            "the server at " + url + " is not available: database unavailable: refused\n");
  }

  @Test
  void anyOtherFailureNamesTheStatusAndRoute() throws IOException {
    String url = stub(500, "application/json", "{\"message\":\"internal server error\"}");

    CliRunner.Result r = cli().env("CHANGESYNC_SERVER_URL", url).run("leases", "--stale");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo(
            "the server at "
                + url
                + " answered HTTP 500 to GET /v1/changes/leases: internal server error\n");
  }

  @Test
  void theServersBadRequestIsAUsageError() throws IOException {
    String url = stub(400, "application/json", "{\"message\":\"invalid limit 5000: from 1 to 1000\"}");

    CliRunner.Result r = cli().env("CHANGESYNC_SERVER_URL", url).run("workers");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("invalid limit 5000: from 1 to 1000\nUsage: changesync workers");
  }

  @Test
  void anUnreachableDatabaseIsOneClearLine() throws IOException {
    int closed = UsageTest.closedPort();
    String url = "jdbc:postgresql://127.0.0.1:" + closed + "/changesync";

    CliRunner.Result r =
        cli().env("CHANGESYNC_DATABASE_USER", "postgres").run("--database-url", url, "leases");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).startsWith("database not reachable at " + url + ": ");
    assertThat(r.err().lines()).hasSize(1);
  }
}
