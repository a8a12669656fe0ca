package dev.changesync.http;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The server's budget, measured on the packaged jar (long: minutes; failsafe runs it only
 * in the {@code budget} profile, which {@code -Dchangesync.budget=true} turns on):
 *
 * <ol>
 *   <li>Memory: the jar with {@code -Xmx256m} tracks {@value #REPOS} repositories × {@value #PRS}
 *       open pull requests from the fake GitHub until every one is snapshotted, without running out
 *       of memory ({@code -XX:+ExitOnOutOfMemoryError} would end it); the peak heap in use seen on
 *       {@code /metrics} is reported.
 *   <li>Latency: {@code GET .../status} of random tracked repositories from {@value #CONNECTIONS}
 *       concurrent connections; p50 / p90 / p99 / max are reported.
 * </ol>
 *
 * <p>Run: {@code ./mvnw -q -pl http-adapter -am verify -Dtest=none
 * -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=ServerBudgetIT -Dchangesync.budget=true}. The
 * report is printed and written to {@code http-adapter/target/server-budget.txt}; the results are
 * in {@code docs/http-benchmarks.md}.
 */
class ServerBudgetIT {

  @RegisterExtension static final PostgresDatabase db = PostgresDatabase.empty();

  static final int REPOS = 100;
  static final int PRS = 250;
  static final int CONNECTIONS = 64;
  static final int REQUESTS_PER_CONNECTION = 500;
  private static final String TOKEN = "budget-admin-token";
  private static final Pattern LISTENING = Pattern.compile("listening on (http:[^ \"]+)");
  private static final Pattern HEAP_USED =
      Pattern.compile("jvm_memory_used_bytes\\{area=\"heap\",[^}]*} ([0-9.E]+)");

  private FakeGitHub fake;
  private Process process;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.toHandle().destroy();
      if (!process.waitFor(60, SECONDS)) {
        process.destroyForcibly();
      }
    }
    if (fake != null) {
      fake.close();
    }
  }

  @Test
  void tracksHundredRepositoriesOf250PullRequestsIn256MbAndServesStatusFast() throws Exception {
    fake = FakeGitHub.builder().rateLimit(10_000_000).threads(8).start();
    for (int i = 0; i < REPOS; i++) {
      FakeRepo repo = fake.createRepo("budget", "repo-" + i);
      repo.openPrs(PRS, PrSpec.files(4));
    }
    Path jar = Path.of(System.getProperty("changesync.server.jar", "target/changesync-server.jar"));
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-XX:+ExitOnOutOfMemoryError",
            "-jar",
            jar.toString());
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(k -> k.startsWith("CHANGESYNC_"));
    builder
        .environment()
        .putAll(
            Map.of(
                "CHANGESYNC_DATABASE_URL", db.jdbcUrl(),
                "CHANGESYNC_HTTP_PORT", "0",
                "CHANGESYNC_GITHUB_API_URL", fake.baseUrl(),
                "CHANGESYNC_GITHUB_TOKEN", FakeGitHub.DEFAULT_TOKEN,
                "CHANGESYNC_ADMIN_TOKEN", TOKEN,
                "CHANGESYNC_WORKER_THREADS", "4",
                "CHANGESYNC_POLL_INTERVAL", "100ms",
                "CHANGESYNC_BACKFILL_INTERVAL", "0s",
                "CHANGESYNC_WEBHOOK_DEBOUNCE", "0s",
                "CHANGESYNC_MIN_FETCH_INTERVAL", "0s"));
    builder.redirectErrorStream(true);
    Path log = Path.of("target", "server-budget-server.log");
    builder.redirectOutput(log.toFile());
    process = builder.start();

    String base = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (base == null && System.nanoTime() < deadline && process.isAlive()) {
      Thread.sleep(100);
      Matcher m = LISTENING.matcher(Files.readString(log).replace("\\/", "/"));
      if (m.find()) {
        base = m.group(1);
      }
    }
    assertThat(base).as(Files.readString(log)).isNotNull();
    Http http = new Http(URI.create(base));
    for (int i = 0; i < REPOS; i++) {
      Http.Response r =
          http.post(
              "/v1/changes/repos/budget/repo-" + i + "/backfill",
              "{\"mode\":\"open_only\"}",
              Map.of("Authorization", "Bearer " + TOKEN, "Content-Type", "application/json"));
      assertThat(r.status()).isEqualTo(200);
    }

    // 1. Memory: converge under -Xmx256m.
    Jdbi jdbi = Jdbi.create(db.dataSource());
    long startedAt = System.nanoTime();
    double peakHeap = 0;
    long converged = 0;
    while (converged < REPOS) {
      assertThat(process.isAlive()).as("the server died:\n" + tail(log)).isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - startedAt))
          .as("converging took too long")
          .isLessThan(Duration.ofMinutes(30));
      Thread.sleep(2_000);
      peakHeap = Math.max(peakHeap, heapUsed(http.get("/metrics").body()));
      converged =
          jdbi.withHandle(
              h ->
                  h.createQuery(
                          "select count(*) from repository_sync_state where open_pr_total = :prs"
                              + " and open_pr_current = :prs and open_pr_cursor_number is null")
                      .bind("prs", PRS)
                      .mapTo(Long.class)
                      .one());
    }
    Duration convergedIn = Duration.ofNanos(System.nanoTime() - startedAt);
    long snapshots =
        jdbi.withHandle(h -> h.createQuery("select count(*) from pr_snapshot").mapTo(Long.class).one());
    assertThat(snapshots).isEqualTo((long) REPOS * PRS);

    // 2. Latency of GET .../status at 64 concurrent connections.
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .executor(Executors.newFixedThreadPool(8))
            .build();
    String baseUrl = base;
    warmUp(client, baseUrl);
    long[] latencies = new long[CONNECTIONS * REQUESTS_PER_CONNECTION];
    AtomicLong failures = new AtomicLong();
    ExecutorService connections = Executors.newFixedThreadPool(CONNECTIONS);
    long benchStart = System.nanoTime();
    List<Future<?>> done = new ArrayList<>();
    for (int c = 0; c < CONNECTIONS; c++) {
      int offset = c * REQUESTS_PER_CONNECTION;
      done.add(
          connections.submit(
              () -> {
                for (int i = 0; i < REQUESTS_PER_CONNECTION; i++) {
                  latencies[offset + i] = timedStatus(client, baseUrl, failures);
                }
                return null;
              }));
    }
    for (Future<?> f : done) {
      f.get();
    }
    Duration benchTook = Duration.ofNanos(System.nanoTime() - benchStart);
    connections.shutdown();
    peakHeap = Math.max(peakHeap, heapUsed(http.get("/metrics").body()));
    Arrays.sort(latencies);

    String report =
        String.format(
            Locale.ROOT,
            "server budget (%d repositories x %d open PRs, 4 files each; -Xmx256m; 4 worker"
                + " threads)%n"
                + "  converged: %d snapshots in %ds, peak heap used seen on /metrics %.0f MiB, server"
                + " alive: %s%n"
                + "GET /v1/changes/repos/{owner}/{repo}/status, %d connections x %d requests%n"
                + "  p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; %.0f requests/s;"
                + " %d failed%n",
            REPOS,
            PRS,
            snapshots,
            convergedIn.toSeconds(),
            peakHeap / (1024 * 1024),
            process.isAlive(),
            CONNECTIONS,
            REQUESTS_PER_CONNECTION,
            millis(percentile(latencies, 50)),
            millis(percentile(latencies, 90)),
            millis(percentile(latencies, 99)),
            millis(latencies[latencies.length - 1]),
            latencies.length / (benchTook.toNanos() / 1e9),
            failures.get());
    System.out.print(report);
    Files.writeString(Path.of("target", "server-budget.txt"), report);

    assertThat(process.isAlive()).isTrue();
    assertThat(failures.get()).isZero();
    assertThat(tail(log)).doesNotContain("OutOfMemoryError");
  }

  private static void warmUp(HttpClient client, String base) {
    AtomicLong ignored = new AtomicLong();
    for (int i = 0; i < 2_000; i++) {
      timedStatus(client, base, ignored);
    }
  }

  private static long timedStatus(HttpClient client, String base, AtomicLong failures) {
    int repo = ThreadLocalRandom.current().nextInt(REPOS);
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + "/v1/changes/repos/budget/repo-" + repo + "/status"))
            .timeout(Duration.ofSeconds(30))
            .build();
    long start = System.nanoTime();
    try {
      HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        failures.incrementAndGet();
      }
    } catch (IOException e) {
      failures.incrementAndGet();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failures.incrementAndGet();
    }
    return System.nanoTime() - start;
  }

  private static long percentile(long[] sorted, double p) {
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }

  private static double heapUsed(String metrics) {
    double sum = 0;
    Matcher m = HEAP_USED.matcher(metrics);
    while (m.find()) {
      sum += Double.parseDouble(m.group(1));
    }
    return sum;
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(Files.newInputStream(log), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        lines.add(line);
        if (lines.size() > 40) {
          lines.remove(0);
        }
      }
    }
    return String.join("\n", lines);
  }
}
