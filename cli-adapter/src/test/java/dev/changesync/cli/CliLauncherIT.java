package dev.changesync.cli;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.changesync.engine.service.ApiJson;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The packaged CLI as an operator runs it: {@code bin/changesync}, which runs {@code
 * cli-adapter/target/changesync.jar} (the shaded jar — ServiceLoader files merged, so the JDBC
 * driver, Flyway's PostgreSQL support and Jetty load), each command a process of its own.
 */
class CliLauncherIT {

  /** An empty database: the CLI migrates it. */
  @RegisterExtension static final PostgresDatabase db = PostgresDatabase.empty();

  private static final Path MODULE = Path.of("").toAbsolutePath();
  private static final Path LAUNCHER = MODULE.resolveSibling("bin").resolve("changesync");

  record Run(int exitCode, String out, String err) {}

  private static ProcessBuilder launcher(List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(LAUNCHER.toString());
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command);
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("CHANGESYNC_"));
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.put("CHANGESYNC_DATABASE_USER", db.user());
    // Tracking asks GitHub whether a repository exists.
    env.put("CHANGESYNC_GITHUB_API_URL", FakeGitHub.knowingEveryRepository().baseUrl());
    db.password().ifPresent(p -> env.put("CHANGESYNC_DATABASE_PASSWORD", p));
    return pb;
  }

  private static Run run(String... args) throws Exception {
    Process p = launcher(List.of(args)).start();
    CompletableFuture<String> out = read(p.getInputStream());
    CompletableFuture<String> err = read(p.getErrorStream());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("finished: changesync %s", List.of(args)).isTrue();
    return new Run(p.exitValue(), out.get(10, SECONDS), err.get(10, SECONDS));
  }

  private static CompletableFuture<String> read(java.io.InputStream in) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
  }

  @Test
  void theLauncherRunsTheShadedJar() throws Exception {
    assertThat(LAUNCHER).isExecutable();
    assertThat(MODULE.resolve("target/changesync.jar")).exists();

    Run version = run("--version");
    assertThat(version.exitCode()).isZero();
    assertThat(version.out()).startsWith("changesync 0.1.0");

    Run usage = run("status", "acme");
    assertThat(usage.exitCode()).isEqualTo(2);
    assertThat(usage.err()).contains("Usage: changesync status");
    assertThat(usage.out()).isEmpty();
  }

  @Test
  void migratesTracksAndReadsTheDatabaseAndServes() throws Exception {
    String url = db.jdbcUrl();

    Run migrated = run("--database-url", url, "migrate");
    assertThat(migrated.exitCode()).as(migrated.toString()).isZero();
    assertThat(migrated.out()).startsWith("Migrated jdbc:postgresql://");
    assertThat(migrated.err()).as("logging is quiet").isEmpty();

    Run unknown = run("--database-url", url, "status", "acme/widgets");
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(unknown.err()).isEqualTo("repository acme/widgets is not tracked\n");

    Run tracked = run("--database-url", url, "backfill", "acme/widgets", "--priority", "2");
    assertThat(tracked.exitCode()).as(tracked.toString()).isZero();

    int port = UsageTest.closedPort();
    ProcessBuilder serve =
        launcher(
            List.of(
                "--database-url", url, "serve", "--http-port", Integer.toString(port),
                "--role", "http", "--admin-token", "it-admin-token-0123"));
    serve.redirectErrorStream(true);
    Process server = serve.start();
    try {
      LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
      Thread pump =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
                  r.lines().forEach(lines::add);
                } catch (IOException | java.io.UncheckedIOException e) {
                  // the process ended
                }
              });
      pump.setDaemon(true);
      pump.start();
      String line;
      do {
        line = lines.poll(60, SECONDS);
        assertThat(line).as("the server's log until it listens").isNotNull();
      } while (!line.contains("changesync server listening on http://127.0.0.1:" + port));

      Run status =
          run("--server", "http://127.0.0.1:" + port, "status", "acme/widgets", "--json");
      assertThat(status.exitCode()).as(status.toString()).isZero();
      JsonNode json = ApiJson.newMapper().readTree(status.out());
      assertThat(json.path("backfill_priority").asInt()).isEqualTo(2);

      server.destroy(); // SIGTERM
      assertThat(server.waitFor(60, SECONDS)).isTrue();
      assertThat(server.exitValue()).as("a clean stop on SIGTERM").isZero();
    } finally {
      server.destroyForcibly();
    }
  }

  static {
    if (!Files.exists(LAUNCHER)) {
      throw new IllegalStateException("no launcher at " + LAUNCHER);
    }
  }
}
