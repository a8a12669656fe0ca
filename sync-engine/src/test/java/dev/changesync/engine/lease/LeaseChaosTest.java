package dev.changesync.engine.lease;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Worker processes ({@link ChaosWorkerProcess}) race for leases over a few keys while this test
 * kills them (SIGKILL, then a new incarnation starts), and freezes them past stale-after (SIGSTOP,
 * later SIGCONT), at random. Afterwards:
 *
 * <ul>
 *   <li>never twice at once: per key, the passes' guarded writes never interleave — in log order
 *       the tokens never go back, and each token writes {@code begin} before {@code end};
 *   <li>fencing: every claim of a key got a token above all earlier ones;
 *   <li>never stuck: once the chaos stops, every key is worked on again.
 * </ul>
 *
 * <p>The chaos lasts 20 s; {@code -Dchangesync.chaos.seconds=600} makes it a soak.
 */
class LeaseChaosTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final int WORKERS = 4;
  private static final int KEYS = 12;
  /** Heartbeat every 500 ms, stale after 1.5 s. */
  private static final Duration TTL = Duration.ofSeconds(3);

  private final List<ChildJvm> started = new ArrayList<>();

  @AfterEach
  void stopWorkers() {
    started.forEach(ChildJvm::kill);
  }

  @Test
  void killedAndFrozenWorkersNeitherDoubleTheWorkNorStallIt() throws Exception {
    Jdbi jdbi = Jdbi.create(db.dataSource());
    jdbi.useHandle(
        h -> {
          h.execute(
              "create table chaos_log (id bigserial primary key, key text not null,"
                  + " token bigint not null, owner text not null, step text not null)");
          h.execute("create table chaos_key (key text primary key, rounds bigint not null)");
        });
    long seed = Long.getLong("changesync.chaos.seed", System.nanoTime());
    Duration chaosFor = Duration.ofSeconds(Long.getLong("changesync.chaos.seconds", 20));
    Random random = new Random(seed);

    ChildJvm[] workers = new ChildJvm[WORKERS];
    long[] frozenUntil = new long[WORKERS]; // System.nanoTime() deadline; 0 = running
    for (int i = 0; i < WORKERS; i++) {
      workers[i] = startWorker(i);
    }
    int kills = 0;
    int freezes = 0;
    long end = System.nanoTime() + chaosFor.toNanos();
    while (System.nanoTime() < end) {
      Thread.sleep(200 + random.nextInt(400));
      for (int i = 0; i < WORKERS; i++) {
        if (frozenUntil[i] != 0 && System.nanoTime() >= frozenUntil[i]) {
          workers[i].signal("CONT");
          frozenUntil[i] = 0;
        }
      }
      int victim = random.nextInt(WORKERS);
      if (frozenUntil[victim] != 0) {
        continue;
      }
      switch (random.nextInt(3)) {
        case 0 -> {
          workers[victim].signal("KILL");
          workers[victim] = startWorker(victim);
          kills++;
        }
        case 1 -> {
          workers[victim].signal("STOP");
          // Past stale-after (1.5 s): its lease may be reclaimed while it sleeps.
          frozenUntil[victim] =
              System.nanoTime() + Duration.ofMillis(1_600 + random.nextInt(1_400)).toNanos();
          freezes++;
        }
        default -> {
          // Let it work.
        }
      }
    }
    for (int i = 0; i < WORKERS; i++) {
      if (frozenUntil[i] != 0) {
        workers[i].signal("CONT");
      }
    }

    // Never stuck: every key is worked on again within a few stale-afters.
    Map<String, Long> before = rounds(jdbi);
    await()
        .atMost(30, SECONDS)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              Map<String, Long> now = rounds(jdbi);
              for (int k = 0; k < KEYS; k++) {
                String key = "chaos:" + k;
                if (now.getOrDefault(key, 0L) <= before.getOrDefault(key, 0L)) {
                  return false;
                }
              }
              return true;
            });
    for (ChildJvm worker : workers) {
      worker.kill();
    }

    String context = "chaos seed " + seed + ", " + kills + " kills, " + freezes + " freezes";
    assertThat(kills + freezes).as(context).isPositive();
    assertThat(interleavings(jdbi)).as(context).isEmpty();
    assertThat(tokensGoingBack(jdbi)).as(context).isEmpty();
    long reclaims =
        jdbi.withHandle(
            h ->
                h.select("select count(*) from lease_event_log where kind = 'reclaimed'")
                    .mapTo(Long.class)
                    .one());
    long passes =
        jdbi.withHandle(
            h -> h.select("select coalesce(sum(rounds), 0) from chaos_key").mapTo(Long.class).one());
    assertThat(reclaims)
        .as(context + ": leases taken over from killed or frozen workers")
        .isPositive();
    long refused =
        jdbi.withHandle(
            h ->
                h.select("select count(*) from lease_event_log where kind = 'lost'")
                    .mapTo(Long.class)
                    .one());
    System.out.printf(
        "lease chaos: %s; %d passes completed, %d leases reclaimed, %d writes, heartbeats or"
            + " releases refused to a worker that had lost its lease%n",
        context, passes, reclaims, refused);
  }

  private ChildJvm startWorker(int index) throws Exception {
    ChildJvm jvm =
        ChildJvm.start(
            ChaosWorkerProcess.class,
            db.jdbcUrl(),
            "chaos-worker-" + index,
            Integer.toString(KEYS),
            Long.toString(TTL.toMillis()));
    started.add(jvm);
    assertThat(jvm.next()).startsWith("READY ");
    return jvm;
  }

  private static Map<String, Long> rounds(Jdbi jdbi) {
    Map<String, Long> rounds = new HashMap<>();
    jdbi.useHandle(
        h ->
            h.select("select key, rounds from chaos_key")
                .map((rs, ctx) -> rounds.put(rs.getString(1), rs.getLong(2)))
                .list());
    return rounds;
  }

  /**
   * Log rows that break "one pass at a time per key": in id order, a token lower than one before
   * it, or a token whose rows are not a {@code begin} optionally followed by one {@code end}.
   */
  private static List<String> interleavings(Jdbi jdbi) {
    List<String> problems = new ArrayList<>();
    Map<String, Long> lastToken = new HashMap<>();
    Map<String, String> lastStep = new HashMap<>();
    jdbi.useHandle(
        h ->
            h.select("select id, key, token, step from chaos_log order by id")
                .map(
                    (rs, ctx) -> {
                      String key = rs.getString("key");
                      long token = rs.getLong("token");
                      String step = rs.getString("step");
                      Long previous = lastToken.get(key);
                      String row =
                          "row %d (%s %d %s)".formatted(rs.getLong("id"), key, token, step);
                      if (previous != null && token < previous) {
                        problems.add(row + " after token " + previous);
                      } else if (previous == null || token > previous) {
                        if (!step.equals("begin")) {
                          problems.add(row + " without its begin");
                        }
                      } else if (!(lastStep.get(key).equals("begin") && step.equals("end"))) {
                        problems.add(row + " after " + lastStep.get(key) + " of the same token");
                      }
                      lastToken.put(key, token);
                      lastStep.put(key, step);
                      return row;
                    })
                .list());
    return problems;
  }

  /** Claims whose token is not above every earlier claim's token of the same key. */
  private static List<String> tokensGoingBack(Jdbi jdbi) {
    return jdbi.withHandle(
        h ->
            h.select(
                    """
                    select resource || ': token ' || token || ' after ' || earlier
                      from (select resource, token,
                                   max(token) over (partition by resource order by id
                                                    rows between unbounded preceding
                                                             and 1 preceding) as earlier
                              from lease_event_log where kind in ('claimed', 'reclaimed')) e
                     where token <= earlier
                    """)
                .mapTo(String.class)
                .list());
  }
}
