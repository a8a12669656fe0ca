package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.testkit.PostgresDatabase;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 16, with the server jar as a real process: every start-up failure an operator causes —
 * the database unreachable, refusing the user, missing; the HTTP port taken; a bind address that is
 * not this machine's — ends the process with exit status 2 and one line naming the setting and the
 * cause, and no stack trace.
 */
class StartupFailuresIT {

  /** Only for a server that really runs: the port clash must be found before the database. */
  @RegisterExtension static final PostgresDatabase db = PostgresDatabase.empty();

  private static Map<String, String> env(String databaseUrl) {
    Map<String, String> env = new HashMap<>();
    env.put("CHANGESYNC_DATABASE_URL", databaseUrl);
    env.put("CHANGESYNC_HTTP_PORT", "0");
    env.put("CHANGESYNC_GITHUB_TOKEN", "ghp_startup_failures_test");
    env.put("CHANGESYNC_GITHUB_API_URL", "http://127.0.0.1:9/");
    return env;
  }

  /** Starts the jar with {@code env}, waits for it to give up, and returns what it printed. */
  private static String failedStart(Map<String, String> env) throws Exception {
    try (ServerJar jar = ServerJar.start(env, List.of("-Xmx256m"))) {
      int status = jar.awaitExit(Duration.ofSeconds(60));
      String output = jar.output();
      assertThat(status).as(output).isEqualTo(2);
      assertThat(output).as("no stack trace").doesNotContain("\tat ").doesNotContain("Exception in");
      List<String> lines = output.lines().filter(l -> l.startsWith("changesync: ")).toList();
      assertThat(lines).as(output).hasSize(1);
      return lines.get(0);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void anUnreachableDatabase() throws Exception {
    String line =
        failedStart(env("jdbc:postgresql://127.0.0.1:" + freePort() + "/changesync?user=changesync"));

    assertThat(line)
        .startsWith("changesync: CHANGESYNC_DATABASE_URL: the database at 127.0.0.1:")
        .contains("is not reachable");
  }

  @Test
  void aUserTheDatabaseRefuses() throws Exception {
    String url = db.jdbcUrl().replaceAll("\\?.*$", "") + "?user=no_such_role_16";

    String line = failedStart(env(url));

    assertThat(line)
        .startsWith("changesync: CHANGESYNC_DATABASE_URL (user and password, or")
        .contains("refused them")
        .contains("no_such_role_16");
  }

  @Test
  void aMissingDatabase() throws Exception {
    String url = db.jdbcUrl().replace("/" + db.databaseName(), "/no_such_database_16");
    Map<String, String> env = env(url);
    env.put("CHANGESYNC_DATABASE_USER", db.user());
    db.password().ifPresent(p -> env.put("CHANGESYNC_DATABASE_PASSWORD", p));

    String line = failedStart(env);

    assertThat(line)
        .startsWith("changesync: CHANGESYNC_DATABASE_URL: ")
        .contains("no_such_database_16")
        .contains("does not exist");
  }

  @Test
  void aPortInUseIsFoundBeforeTheDatabase() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Map<String, String> env =
          env("jdbc:postgresql://127.0.0.1:" + freePort() + "/changesync?user=changesync");
      env.put("CHANGESYNC_HTTP_PORT", Integer.toString(taken.getLocalPort()));

      String line = failedStart(env);

      assertThat(line)
          .isEqualTo(
              "changesync: CHANGESYNC_HTTP_PORT: port "
                  + taken.getLocalPort()
                  + " on 127.0.0.1 is already in use (another server running?); choose another"
                  + " port");
    }
  }

  @Test
  void aBindAddressThatIsNotThisMachines() throws Exception {
    Map<String, String> env = env(db.jdbcUrl());
    env.put("CHANGESYNC_HTTP_HOST", "192.0.2.1"); // TEST-NET-1: never a local address

    String line = failedStart(env);

    assertThat(line).startsWith("changesync: CHANGESYNC_HTTP_HOST: cannot listen on 192.0.2.1:0");
  }
}
