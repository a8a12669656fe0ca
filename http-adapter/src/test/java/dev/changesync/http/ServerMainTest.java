package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the server's {@code main} does before it serves: configuration problems are one message on
 * standard error naming the variable and exit status 2; a failed start is status 1.
 */
class ServerMainTest {

  private static String previousLogbackConfig;

  @BeforeAll
  static void keepTheTestLogging() {
    // run() configures logging for a real process; leave this JVM's test logging alone.
    previousLogbackConfig = System.setProperty("logback.configurationFile", "logback-test.xml");
  }

  @AfterAll
  static void restore() {
    if (previousLogbackConfig == null) {
      System.clearProperty("logback.configurationFile");
    } else {
      System.setProperty("logback.configurationFile", previousLogbackConfig);
    }
  }

  private record Outcome(int status, String out, String err) {}

  private static Outcome run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        ChangesyncServer.run(
            env,
            List.of(args),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Outcome(
        status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aBadValueIsExit2WithOneMessageNamingTheVariable() {
    Outcome o =
        run(
            Map.of(
                "CHANGESYNC_DATABASE_URL", "jdbc:postgresql://127.0.0.1:1/none",
                "CHANGESYNC_LEASE_TTL", "fifteen"));

    assertThat(o.status()).isEqualTo(2);
    assertThat(o.err().strip())
        .startsWith("changesync: CHANGESYNC_LEASE_TTL: 'fifteen' is not a duration")
        .doesNotContain("\n");
  }

  @Test
  void aBadFlagIsExit2NamingTheFlag() {
    Outcome o = run(Map.of(), "--http-port", "http");

    assertThat(o.status()).isEqualTo(2);
    assertThat(o.err()).contains("--http-port: 'http' is not a whole number");
  }

  @Test
  void withoutADatabaseUrlAnUnusableDataDirectoryIsExit1SayingWhy(@TempDir Path dir)
      throws Exception {
    Path notADirectory = Files.writeString(dir.resolve("a-file"), "x");

    Outcome o =
        run(
            Map.of(
                "CHANGESYNC_ROLE", "http",
                "CHANGESYNC_HTTP_PORT", "0",
                "CHANGESYNC_DATA_DIR", notADirectory.toString()));

    assertThat(o.status()).isEqualTo(1);
    assertThat(o.err())
        .startsWith("changesync: could not start:")
        .contains("cannot use the data directory " + notADirectory);
  }

  @Test
  void workersWithoutGitHubCredentialsAreNoConfigurationError() {
    // They read public repositories anonymously; only the unreachable database stops this start.
    Outcome o =
        run(
            Map.of(
                "CHANGESYNC_DATABASE_URL",
                "jdbc:postgresql://127.0.0.1:1/none?user=nobody&connectTimeout=1",
                "CHANGESYNC_HTTP_PORT",
                "0"));

    assertThat(o.status()).isEqualTo(2);
    assertThat(o.err())
        .startsWith("changesync: CHANGESYNC_DATABASE_URL: ")
        .doesNotContain("GITHUB");
  }

  @Test
  void anUnreachableDatabaseIsOneLineNamingTheSettingAndExit2() {
    Outcome o =
        run(
            Map.of(
                "CHANGESYNC_DATABASE_URL",
                "jdbc:postgresql://127.0.0.1:1/none?user=nobody&connectTimeout=1",
                "CHANGESYNC_ROLE",
                "http",
                "CHANGESYNC_HTTP_PORT",
                "0"));

    assertThat(o.status()).isEqualTo(2);
    assertThat(o.err())
        .startsWith("changesync: CHANGESYNC_DATABASE_URL: the database at 127.0.0.1:1")
        .contains("is not reachable");
  }

  @Test
  void helpListsEverySettingAndExits0() {
    Outcome o = run(Map.of(), "--help");

    assertThat(o.status()).isZero();
    assertThat(o.out())
        .contains("changesync-server.jar")
        .contains("CHANGESYNC_DATABASE_URL")
        .contains("--log-format")
        .contains("CHANGESYNC_MIGRATE");
  }
}
