package dev.changesync.http;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The packaged server jar ({@code target/changesync-server.jar}, built by {@code package}) as a
 * child process: it migrates a fresh database, serves the API on a free port, syncs a repository
 * from the fake GitHub, and on SIGTERM stops cleanly — exit status 0, no lease left held.
 */
class ServerProcessIT {

  @RegisterExtension static final PostgresDatabase db = PostgresDatabase.empty();

  private static final String TOKEN = "process-admin-token";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LISTENING = Pattern.compile("listening on (http://[^ \"]+)");

  private FakeGitHub fake;
  private Process process;
  private final List<String> stdout = Collections.synchronizedList(new ArrayList<>());
  private final StringBuffer stderr = new StringBuffer();
  private final List<Thread> drains = new ArrayList<>();

  @BeforeEach
  void setUp() {
    fake = FakeGitHub.start();
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroyForcibly().waitFor(10, SECONDS);
    }
    fake.close();
  }

  private static Path jar() {
    Path jar = Path.of(System.getProperty("changesync.server.jar", "target/changesync-server.jar"));
    assertThat(jar).as("the server jar (built by mvn package)").isRegularFile();
    return jar;
  }

  private Process startJar(Map<String, String> env, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(k -> k.startsWith("CHANGESYNC_"));
    builder.environment().putAll(env);
    process = builder.start();
    drains.add(drain(process.getInputStream(), stdout::add, "stdout"));
    drains.add(drain(process.getErrorStream(), line -> stderr.append(line).append('\n'), "stderr"));
    return process;
  }

  /** Waits until everything the process wrote has been read. */
  private void drained() throws InterruptedException {
    for (Thread t : drains) {
      t.join(10_000);
    }
  }

  private static Thread drain(
      InputStream in, java.util.function.Consumer<String> sink, String name) {
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  sink.accept(line);
                }
              } catch (IOException e) {
                // the process ended
              }
            },
            "server-" + name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private Optional<String> baseUrl() {
    synchronized (stdout) {
      for (String line : stdout) {
        Matcher m = LISTENING.matcher(message(line));
        if (m.find()) {
          return Optional.of(m.group(1));
        }
      }
    }
    return Optional.empty();
  }

  /** The message of a log line: JSON lines carry it in {@code message}. */
  private static String message(String line) {
    if (!line.startsWith("{")) {
      return line;
    }
    try {
      return JSON.readTree(line).path("message").asText("");
    } catch (IOException e) {
      return line;
    }
  }

  private String output() {
    synchronized (stdout) {
      return String.join("\n", stdout) + "\n--- stderr ---\n" + stderr;
    }
  }

  private static long count(Jdbi jdbi, String sql) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  @Test
  void theJarSyncsARepositoryAndStopsCleanlyOnSigterm() throws Exception {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    repo.openPrs(6, PrSpec.files(3));
    Map<String, String> env =
        Map.ofEntries(
            Map.entry("CHANGESYNC_DATABASE_URL", db.jdbcUrl()),
            Map.entry("CHANGESYNC_HTTP_PORT", "0"),
            Map.entry("CHANGESYNC_GITHUB_API_URL", fake.baseUrl()),
            Map.entry("CHANGESYNC_GITHUB_TOKEN", FakeGitHub.DEFAULT_TOKEN),
            Map.entry("CHANGESYNC_ADMIN_TOKEN", TOKEN),
            Map.entry("CHANGESYNC_WORKER_NAME", "process-it"),
            Map.entry("CHANGESYNC_LEASE_TTL", "3s"),
            Map.entry("CHANGESYNC_POLL_INTERVAL", "100ms"),
            Map.entry("CHANGESYNC_BACKFILL_INTERVAL", "0s"),
            Map.entry("CHANGESYNC_WEBHOOK_DEBOUNCE", "0s"),
            Map.entry("CHANGESYNC_MIN_FETCH_INTERVAL", "0s"),
            Map.entry("CHANGESYNC_SHUTDOWN_GRACE", "10s"),
            Map.entry("CHANGESYNC_LOG_FORMAT", "json"));
    startJar(env);

    await()
        .atMost(60, SECONDS)
        .pollInterval(100, MILLISECONDS)
        .failFast("the server exited:\n" + output(), () -> !process.isAlive())
        .until(() -> baseUrl().isPresent());
    Http http = new Http(java.net.URI.create(baseUrl().get()));
    assertThat(http.get("/readyz").status()).isEqualTo(200);

    Http.Response tracked =
        http.post(
            "/v1/changes/repos/acme/widgets/backfill",
            "{\"mode\":\"open_only\",\"priority\":5}",
            Map.of("Authorization", "Bearer " + TOKEN, "Content-Type", "application/json"));
    assertThat(tracked.status()).as(tracked.body()).isEqualTo(200);

    await()
        .atMost(60, SECONDS)
        .pollInterval(100, MILLISECONDS)
        .failFast("the server exited:\n" + output(), () -> !process.isAlive())
        .until(
            () -> {
              JsonNode s = http.get("/v1/changes/repos/acme/widgets/status").json();
              return !s.get("last_open_pr_scan_at").isNull()
                  && s.get("open_pr_total").asInt() == 6
                  && s.get("open_pr_current").asInt() == 6
                  && s.get("open_pr_cursor_number").isNull();
            });
    String metrics = http.get("/metrics").body();
    assertThat(metrics)
        .containsPattern("changesync_lease_claims_total\\{lane=\"backfill\"} [1-9]")
        .containsPattern(
            "changesync_build_info\\{java=\"\\d+\",version=\""
                + java.util.regex.Pattern.quote(System.getProperty("changesync.version"))
                + "\"} 1")
        .containsPattern("changesync_pass_duration_seconds_bucket\\{.*le=\"0\\.1\".*} \\d")
        .containsPattern("changesync_http_requests_seconds_bucket\\{.*le=\"0\\.005\".*} \\d");
    // The jar's manifest carries the version its worker registers with.
    assertThat(http.get("/v1/changes/workers").json().findValuesAsText("version"))
        .containsExactly(System.getProperty("changesync.version"));

    // Make the next passes slow, and stop the server while it holds a lease.
    repo.openPrs(20, PrSpec.files(2));
    fake.latency(Duration.ofMillis(40));
    http.post(
        "/v1/changes/repos/acme/widgets/fetch",
        "",
        Map.of("Authorization", "Bearer " + TOKEN));
    Jdbi jdbi = Jdbi.create(db.dataSource());
    await()
        .atMost(30, SECONDS)
        .pollInterval(20, MILLISECONDS)
        .until(
            () -> count(jdbi, "select count(*) from lease where owner_id like 'process-it:%'") > 0);

    // SIGTERM (through the handle: Process.destroy() would also close our ends of its pipes).
    process.toHandle().destroy();

    assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("stopped within the grace").isTrue();
    drained();
    assertThat(process.exitValue()).as(output()).isZero();
    assertThat(count(jdbi, "select count(*) from lease where owner_id like 'process-it:%'"))
        .as("leases still held by the stopped worker")
        .isZero();
    assertThat(
            count(
                jdbi,
                "select count(*) from worker where worker_name = 'process-it'"
                    + " and stopped_at is not null"))
        .isEqualTo(1);
    // JSON logs: one object per line, with a line per lease claim.
    List<String> lines;
    synchronized (stdout) {
      lines = List.copyOf(stdout);
    }
    assertThat(lines).isNotEmpty();
    for (String line : lines) {
      JsonNode json = JSON.readTree(line);
      assertThat(json.isObject()).as(line).isTrue();
      // Flat fields as log shippers expect them, the time in ISO-8601 (not epoch millis).
      assertThat(json.path("@timestamp").asText())
          .as(line)
          .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:\\d\\d)");
      assertThat(json.path("level").asText()).as(line).isIn("INFO", "WARN", "ERROR", "DEBUG");
      assertThat(json.path("logger_name").asText()).as(line).isNotEmpty();
      assertThat(json.has("message")).as(line).isTrue();
    }
    List<String> messages = lines.stream().map(ServerProcessIT::message).toList();
    assertThat(messages).anySatisfy(m -> assertThat(m).startsWith("lease claimed: repo:"));
    assertThat(messages).as(output()).contains("changesync server stopping", "changesync server stopped");
  }

  @Test
  void theJarPrintsItsVersion() throws Exception {
    startJar(Map.of(), "--version");

    assertThat(process.waitFor(30, SECONDS)).isTrue();
    drained();
    assertThat(process.exitValue()).as(output()).isZero();
    assertThat(String.join("\n", stdout).strip())
        .isEqualTo("changesync " + System.getProperty("changesync.version"));
  }

  @Test
  void aBadSettingStopsTheJarWithStatus2AndOneMessage() throws Exception {
    startJar(
        Map.of("CHANGESYNC_DATABASE_URL", db.jdbcUrl(), "CHANGESYNC_ROLE", "http"),
        "--lease-ttl",
        "soon");

    assertThat(process.waitFor(30, SECONDS)).isTrue();
    drained();
    assertThat(process.exitValue()).isEqualTo(2);
    assertThat(stderr.toString().strip())
        .startsWith("changesync: --lease-ttl: 'soon' is not a duration")
        .doesNotContain("\n");
    assertThat(Files.exists(jar())).isTrue();
  }
}
