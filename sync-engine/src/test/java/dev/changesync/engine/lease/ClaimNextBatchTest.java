package dev.changesync.engine.lease;

import static java.time.Duration.ofMinutes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Claim-next of several leases in one statement: the same claims as one at a time, batched. */
class ClaimNextBatchTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final OwnerId ALICE = new OwnerId("worker-a", "a1");
  private static final OwnerId BOB = new OwnerId("worker-b", "b1");
  private static final LeasePolicy LONG = LeasePolicy.ofTtl(ofMinutes(15));
  private static final Candidates BY_RESOURCE =
      Candidates.of(
          "select resource from lease where lane = 'fetch'", "c.resource");

  private final MutableClock clock = new MutableClock();
  private Jdbi jdbi;
  private PostgresLeaseStore store;

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    jdbi = Jdbi.create(db.dataSource());
    store = PostgresLeaseStore.builder(db.dataSource()).clock(clock).build();
  }

  private static List<LeaseKey> keys(int count) {
    return IntStream.range(0, count)
        .mapToObj(i -> LeaseKey.of("repo:%03d".formatted(i), "fetch"))
        .toList();
  }

  private static List<LeaseKey> keysOf(List<ClaimResult.Granted> granted) {
    return granted.stream().map(g -> g.lease().key()).sorted(
        (a, b) -> a.resource().compareTo(b.resource())).toList();
  }

  @Test
  void claimsTheFirstFreeCandidatesInTheirOrderUpToTheLimit() {
    List<LeaseKey> keys = keys(6);
    store.register(keys);
    ClaimResult held = store.claim(keys.get(1), BOB, LONG);
    assertThat(held).isInstanceOf(ClaimResult.Granted.class);

    List<ClaimResult.Granted> first = store.claimNext("fetch", ALICE, LONG, BY_RESOURCE, 3);
    assertThat(keysOf(first)).containsExactly(keys.get(0), keys.get(2), keys.get(3));
    List<ClaimResult.Granted> second = store.claimNext("fetch", ALICE, LONG, BY_RESOURCE, 3);
    assertThat(keysOf(second)).containsExactly(keys.get(4), keys.get(5));
    assertThat(store.claimNext("fetch", ALICE, LONG, BY_RESOURCE, 3)).isEmpty();

    List<Lease> leases = new ArrayList<>();
    first.forEach(g -> leases.add(g.lease()));
    second.forEach(g -> leases.add(g.lease()));
    assertThat(leases.stream().map(Lease::token).distinct()).hasSize(5);
    for (Lease lease : leases) {
      assertThat(lease.owner()).isEqualTo(ALICE);
      assertThat(store.find(lease.key())).as("the row is the lease granted").contains(lease);
    }
    assertThat(store.find(keys.get(1)).orElseThrow().owner()).as("held lease skipped").isEqualTo(BOB);
  }

  @Test
  void reclaimingSeveralStaleLeasesLogsOneReclaimEachWithItsOwnPreviousHolder() {
    List<LeaseKey> keys = keys(3);
    store.register(keys);
    Map<LeaseKey, Lease> before = new HashMap<>();
    for (LeaseKey key : keys) {
      before.put(key, ((ClaimResult.Granted) store.claim(key, BOB, LONG)).lease());
    }
    clock.advance(LONG.staleAfter());

    List<ClaimResult.Granted> granted = store.claimNext("fetch", ALICE, LONG, BY_RESOURCE, 10);

    assertThat(keysOf(granted)).containsExactlyElementsOf(keys);
    for (ClaimResult.Granted grant : granted) {
      Lease previous = before.get(grant.lease().key());
      assertThat(grant.reclaimedFrom()).isPresent();
      assertThat(grant.reclaimedFrom().get().token()).isEqualTo(previous.token());
      assertThat(grant.lease().token()).isGreaterThan(previous.token());
    }
    List<Map<String, Object>> reclaims =
        jdbi.withHandle(
            h ->
                h.createQuery(
                        "select resource, token, previous_token from lease_event_log"
                            + " where kind = 'reclaimed' order by resource")
                    .mapToMap()
                    .list());
    assertThat(reclaims).as("one event per reclaim, not one per pair").hasSize(3);
    for (Map<String, Object> event : reclaims) {
      LeaseKey key = LeaseKey.of((String) event.get("resource"), "fetch");
      assertThat(event.get("previous_token")).isEqualTo(before.get(key).token());
      assertThat(event.get("token")).isEqualTo(store.find(key).orElseThrow().token());
    }
  }

  @Test
  void aLimitBelowOneIsRefusedNamingIt() {
    assertThatThrownBy(() -> store.claimNext("fetch", ALICE, LONG, BY_RESOURCE, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("limit must be at least 1, was 0");
  }

  @Test
  void eightWorkersBatchClaimingOverRoundsClaimEachKeyExactlyOncePerRound() throws Exception {
    int workers = 8;
    int rounds = 10;
    List<LeaseKey> keys = keys(400);
    store.register(keys);
    HikariDataSource pool = db.newDataSource(workers);
    ExecutorService executor = Executors.newFixedThreadPool(workers);
    try {
      PostgresLeaseStore shared = PostgresLeaseStore.builder(pool).clock(clock).build();
      Map<LeaseKey, Long> lastToken = new HashMap<>();
      for (int round = 0; round < rounds; round++) {
        CyclicBarrier start = new CyclicBarrier(workers);
        List<Future<List<Lease>>> results = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
          OwnerId owner = new OwnerId("worker-" + w, "i" + w);
          int limit = 1 + w % 4;
          results.add(
              executor.submit(
                  () -> {
                    start.await(10, TimeUnit.SECONDS);
                    List<Lease> mine = new ArrayList<>();
                    List<ClaimResult.Granted> next;
                    while (!(next = shared.claimNext("fetch", owner, LONG, BY_RESOURCE, limit))
                        .isEmpty()) {
                      assertThat(next).hasSizeLessThanOrEqualTo(limit);
                      next.forEach(g -> mine.add(g.lease()));
                    }
                    return mine;
                  }));
        }
        List<Lease> claimed = new ArrayList<>();
        for (Future<List<Lease>> result : results) {
          claimed.addAll(result.get(60, TimeUnit.SECONDS));
        }
        assertThat(claimed.stream().map(Lease::key).toList())
            .as("round %d: every key claimed exactly once", round)
            .containsExactlyInAnyOrderElementsOf(keys);
        for (Lease lease : claimed) {
          assertThat(store.find(lease.key())).contains(lease);
          Long previous = lastToken.put(lease.key(), lease.token());
          if (previous != null) {
            assertThat(lease.token()).as("tokens only grow").isGreaterThan(previous);
          }
          assertThat(shared.release(lease)).isTrue();
        }
      }
      long released =
          jdbi.withHandle(
              h ->
                  h.createQuery("select count(*) from lease_event_log where kind = 'released'")
                      .mapTo(Long.class)
                      .one());
      assertThat(released).as("each holding's release logged once").isEqualTo((long) rounds * keys.size());
    } finally {
      executor.shutdownNow();
      pool.close();
    }
  }
}
