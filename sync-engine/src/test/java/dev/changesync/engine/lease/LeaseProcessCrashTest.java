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
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

  private final List<ChildJvm> children = new ArrayList<>();
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
    children.forEach(ChildJvm::kill);
    survivorLiveness.close();
  }

  @Test
  void leaseOfAKilledProcessIsClaimedWithinOneSecondWithLiveness() throws Exception {
    // A 15-minute TTL: only the liveness lock can make this lease reclaimable quickly.
    Child child = start(Duration.ofMinutes(15), true);
    assertThat(survivor.claim(KEY, SURVIVOR, LeasePolicy.defaults()))
        .isInstanceOf(ClaimResult.Held.class);

    Lease left = survivor.find(KEY).orElseThrow();
    child.jvm().signal("KILL");
    long killedAt = System.nanoTime();
    ClaimResult result;
    do {
      result = survivor.claim(KEY, SURVIVOR, LeasePolicy.defaults());
    } while (result instanceof ClaimResult.Held
        && System.nanoTime() - killedAt < Duration.ofSeconds(10).toNanos());
    Duration took = Duration.ofNanos(System.nanoTime() - killedAt);

    assertThat(result).isInstanceOf(ClaimResult.Granted.class);
    assertThat(((ClaimResult.Granted) result).reclaimedFrom().map(Lease::token))
        .contains(child.token());
    assertThat(took).isLessThan(Duration.ofSeconds(1));
    // Not before the dead owner had been silent for the grace, in database time.
    assertThat(survivor.find(KEY).orElseThrow().claimedAt())
        .isAfterOrEqualTo(left.heartbeatAt().plus(PostgresLeaseStore.DEFAULT_OWNER_GONE_AFTER));
  }

  @Test
  void withoutLivenessAKilledProcessKeepsItsLeaseUntilStaleAfter() throws Exception {
    Duration ttl = Duration.ofSeconds(6); // heartbeat 1 s, stale after 3 s
    LeasePolicy policy = LeasePolicy.ofTtl(ttl);
    Child child = start(ttl, false);
    child.jvm().signal("KILL");
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
    child.jvm().send("write before");
    assertThat(child.jvm().next()).isEqualTo("WROTE before");

    child.jvm().signal("STOP");
    // Its connection and liveness lock stay alive: only stale-after can free the lease.
    assertThat(survivor.claim(KEY, SURVIVOR, policy)).isInstanceOf(ClaimResult.Held.class);
    await()
        .atMost(15, SECONDS)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> survivor.claim(KEY, SURVIVOR, policy) instanceof ClaimResult.Granted);
    Lease taken = survivor.find(KEY).orElseThrow();

    child.jvm().signal("CONT");
    child.jvm().send("write after");

    assertThat(child.jvm().nextMatching("WROTE after", "LOST after")).isEqualTo("LOST after");
    List<String> markers =
        jdbi.withHandle(
            h -> h.createQuery("select marker from fence_probe").mapTo(String.class).list());
    assertThat(markers).containsExactly("before");
    assertThat(survivor.find(KEY)).contains(taken);
  }

  // --- child process plumbing --------------------------------------------------------------------

  private Child start(Duration ttl, boolean liveness) throws IOException, InterruptedException {
    ChildJvm jvm =
        ChildJvm.start(
            LeaseHolderProcess.class,
            db.jdbcUrl(),
            KEY.resource(),
            KEY.lane(),
            Long.toString(ttl.toMillis()),
            liveness ? "on" : "off",
            "crash-test-child");
    children.add(jvm);
    String granted = jvm.next();
    assertThat(granted).startsWith("GRANTED ");
    return new Child(jvm, Long.parseLong(granted.split(" ")[1]));
  }

  /** A {@link LeaseHolderProcess} and the token it was granted. */
  private record Child(ChildJvm jvm, long token) {}
}
