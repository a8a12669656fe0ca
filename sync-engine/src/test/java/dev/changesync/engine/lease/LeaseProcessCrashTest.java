package dev.changesync.engine.lease;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Real worker processes that die: a child JVM ({@link LeaseHolderProcess}) claims a lease on
 * database time and is killed with SIGKILL or frozen with SIGSTOP; this JVM then tries to take the
 * lease over, as another worker would.
 */
class LeaseProcessCrashTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final LeaseKey KEY = LeaseKey.of("repo:1", "fetch");
  private static final OwnerId SURVIVOR = OwnerId.newIncarnation("survivor");

  private final List<Child> children = new ArrayList<>();
  private Jdbi jdbi;
  private LivenessSession survivorLiveness;
  private PostgresLeaseStore survivor;

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    jdbi = Jdbi.create(db.dataSource());
    jdbi.useHandle(h -> h.execute("create table if not exists fence_probe (marker text not null)"));
    jdbi.useHandle(h -> h.execute("truncate fence_probe"));
    survivorLiveness = LivenessSession.open(db.dataSource(), SURVIVOR);
    survivor = PostgresLeaseStore.builder(db.dataSource()).liveness(survivorLiveness).build();
  }

  @AfterEach
  void tearDown() {
    children.forEach(Child::kill);
    survivorLiveness.close();
  }

  @Test
  void leaseOfAKilledProcessIsClaimedWithinOneSecondWithLiveness() throws Exception {
    // A 15-minute TTL: only the liveness lock can make this lease reclaimable quickly.
    Child child = start(Duration.ofMinutes(15), true);
    assertThat(survivor.claim(KEY, SURVIVOR, LeasePolicy.defaults()))
        .isInstanceOf(ClaimResult.Held.class);

    child.signal("KILL");
    long killedAt = System.nanoTime();
    ClaimResult result;
    do {
      result = survivor.claim(KEY, SURVIVOR, LeasePolicy.defaults());
    } while (result instanceof ClaimResult.Held
        && System.nanoTime() - killedAt < Duration.ofSeconds(10).toNanos());
    Duration took = Duration.ofNanos(System.nanoTime() - killedAt);

    assertThat(result).isInstanceOf(ClaimResult.Granted.class);
    assertThat(((ClaimResult.Granted) result).reclaimedFrom().map(Lease::token))
        .contains(child.token);
    assertThat(took).isLessThan(Duration.ofSeconds(1));
  }

  @Test
  void withoutLivenessAKilledProcessKeepsItsLeaseUntilStaleAfter() throws Exception {
    Duration ttl = Duration.ofSeconds(6); // heartbeat 1 s, stale after 3 s
    LeasePolicy policy = LeasePolicy.ofTtl(ttl);
    Child child = start(ttl, false);
    child.signal("KILL");
    Lease left = survivor.find(KEY).orElseThrow();

    assertThat(survivor.claim(KEY, SURVIVOR, policy))
        .as("a dead owner without liveness is only noticed by stale-after")
        .isInstanceOf(ClaimResult.Held.class);
    await()
        .atMost(15, SECONDS)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> survivor.claim(KEY, SURVIVOR, policy) instanceof ClaimResult.Granted);

    Lease taken = survivor.find(KEY).orElseThrow();
    assertThat(taken.owner()).isEqualTo(SURVIVOR);
    // It was granted no earlier than stale-after past the dead owner's last heartbeat.
    assertThat(taken.claimedAt())
        .isAfterOrEqualTo(left.heartbeatAt().plus(policy.staleAfter()));
  }

  @Test
  void aFrozenProcessLosesItsLeaseAndCannotWriteWhenItWakes() throws Exception {
    Duration ttl = Duration.ofSeconds(3); // heartbeat 500 ms, stale after 1.5 s
    LeasePolicy policy = LeasePolicy.ofTtl(ttl);
    Child child = start(ttl, true);
    child.send("write before");
    assertThat(child.next()).isEqualTo("WROTE before");

    child.signal("STOP");
    // Its connection and liveness lock stay alive: only stale-after can free the lease.
    assertThat(survivor.claim(KEY, SURVIVOR, policy)).isInstanceOf(ClaimResult.Held.class);
    await()
        .atMost(15, SECONDS)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> survivor.claim(KEY, SURVIVOR, policy) instanceof ClaimResult.Granted);
    Lease taken = survivor.find(KEY).orElseThrow();

    child.signal("CONT");
    child.send("write after");

    assertThat(child.nextMatching("WROTE after", "LOST after")).isEqualTo("LOST after");
    List<String> markers =
        jdbi.withHandle(
            h -> h.createQuery("select marker from fence_probe").mapTo(String.class).list());
    assertThat(markers).containsExactly("before");
    assertThat(survivor.find(KEY)).contains(taken);
  }

  // --- child process plumbing --------------------------------------------------------------------

  private Child start(Duration ttl, boolean liveness) throws IOException, InterruptedException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder builder =
        new ProcessBuilder(
                java.toString(),
                "-Xmx64m",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                LeaseHolderProcess.class.getName(),
                db.jdbcUrl(),
                KEY.resource(),
                KEY.lane(),
                Long.toString(ttl.toMillis()),
                liveness ? "on" : "off",
                "crash-test-child")
            .redirectError(ProcessBuilder.Redirect.INHERIT);
    Child child = new Child(builder.start());
    children.add(child);
    String granted = child.next();
    assertThat(granted).startsWith("GRANTED ");
    child.token = Long.parseLong(granted.split(" ")[1]);
    return child;
  }

  private static final class Child {
    final Process process;
    final Writer stdin;
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    long token;

    Child(Process process) {
      this.process = process;
      this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader out =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = out.readLine()) != null) {
                    lines.add(line);
                  }
                } catch (IOException e) {
                  lines.add("EOF " + e.getMessage());
                }
              },
              "child-stdout-" + process.pid());
      reader.setDaemon(true);
      reader.start();
    }

    String next() throws InterruptedException {
      String line = lines.poll(30, SECONDS);
      assertThat(line).as("a line from the child process").isNotNull();
      return line;
    }

    /** The next line that is one of {@code wanted}, skipping heartbeat chatter. */
    String nextMatching(String... wanted) throws InterruptedException {
      while (true) {
        String line = next();
        for (String w : wanted) {
          if (line.equals(w)) {
            return line;
          }
        }
      }
    }

    void send(String command) throws IOException {
      stdin.write(command + "\n");
      stdin.flush();
    }

    void signal(String signal) throws IOException, InterruptedException {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
              .inheritIO()
              .start();
      assertThat(kill.waitFor()).isZero();
      if (signal.equals("KILL")) {
        assertThat(process.waitFor(10, SECONDS)).isTrue();
      }
    }

    void kill() {
      process.destroyForcibly();
      try {
        process.waitFor(10, SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
