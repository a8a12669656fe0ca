package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The refresh lane's candidate query stays index-driven with 100,000 pending hints: the plan of
 * the very claim-next statement a worker runs for a refresh ({@link PostgresLeaseStore#explainClaimNext}
 * with {@link WorkPicker#complete}) reads {@code refresh_hint} only through its indexes, and reads
 * a few rows per repository instead of every hint. Without {@code refresh_hint_repository} it does
 * not. Writes the {@code EXPLAIN (ANALYZE, BUFFERS)} output to {@code
 * target/refresh-candidates-plan.txt} (quoted in docs/benchmarks.md).
 */
class RefreshCandidatesPlanTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  static final int REPOSITORIES = 1_000;
  static final int HINTS = 100_000;

  /**
   * 1,000 repositories with their three lease rows; 100,000 pending hints: 50,000 on one
   * repository (a webhook flood) whose refresh lease another worker holds, the rest spread over the
   * others; every tenth hint is backing off after a failed attempt.
   */
  static final String SEED =
      """
      insert into repository (owner, name)
      select 'owner' || i, 'repo' || i from generate_series(1, %1$d) i;
      insert into repository_sync_state (repository_id, backfill_mode, last_open_pr_scan_at)
      select id, 'open_only', now() - interval '1 minute' from repository;
      insert into lease (resource, lane)
      select 'repo:' || r.id, lane
        from repository r, unnest(array['fetch', 'refresh', 'backfill']) lane;
      update lease l
         set owner_id = 'busy:1', worker_name = 'busy', claimed_at = now(), heartbeat_at = now(),
             expires_at = now() + interval '15 minutes', stale_at = now() + interval '1 minute',
             lease_for_us = 900000000, heartbeat_every_us = 10000000, stale_after_us = 60000000
       where l.lane = 'refresh' and l.resource = 'repo:' || (select min(id) from repository);
      insert into refresh_hint (repository_id, number, first_seen_at, last_seen_at, last_action,
                                attempts, last_attempt_at)
      select case when i <= %2$d / 2 then r.first else r.first + 1 + i %% (%1$d - 1) end, i,
             now() - (%2$d - i) * interval '10 milliseconds',
             now() - (%2$d - i) * interval '10 milliseconds', 'synchronize',
             case when i %% 10 = 0 then 3 else 0 end,
             case when i %% 10 = 0 then now() end
        from generate_series(1, %2$d) i, (select min(id) as first from repository) r;
      analyze;
      """
          .formatted(REPOSITORIES, HINTS);

  private static final ObjectMapper JSON = new ObjectMapper();

  private Jdbi jdbi;
  private PostgresLeaseStore store;
  private final WorkPicker picker = new WorkPicker(SyncSettings.defaults());
  private final OwnerId owner = OwnerId.newIncarnation("plan");

  @BeforeEach
  void seed() throws Exception {
    db.truncateAllTables();
    jdbi = Jdbi.create(db.dataSource());
    store = PostgresLeaseStore.builder(db.dataSource()).build();
    jdbi.useHandle(h -> h.createScript(SEED).execute());
  }

  private long count(String sql) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  private String explain(String options) {
    return store.explainClaimNext(
        Lanes.REFRESH,
        owner,
        LeasePolicy.defaults(),
        picker.complete(WorkKind.REFRESH),
        options);
  }

  /** A scan of {@code refresh_hint} in a plan, with what it read (ANALYZE only). */
  record HintScan(String nodeType, String index, double rowsRead) {}

  static List<HintScan> hintScans(String jsonPlan) throws Exception {
    List<HintScan> scans = new ArrayList<>();
    collect(JSON.readTree(jsonPlan).get(0).get("Plan"), scans);
    return scans;
  }

  private static void collect(JsonNode node, List<HintScan> scans) {
    if ("refresh_hint".equals(node.path("Relation Name").asText())) {
      double loops = node.path("Actual Loops").asDouble(0);
      double read =
          (node.path("Actual Rows").asDouble(0) + node.path("Rows Removed by Filter").asDouble(0))
              * loops;
      scans.add(
          new HintScan(node.path("Node Type").asText(), node.path("Index Name").asText(""), read));
    }
    for (JsonNode child : node.path("Plans")) {
      collect(child, scans);
    }
  }

  /** What makes a plan not index-driven: a scan that is not an index scan, or too many rows read. */
  static List<String> violations(List<HintScan> scans) {
    List<String> violations = new ArrayList<>();
    if (scans.isEmpty()) {
      violations.add("the plan does not read refresh_hint at all");
    }
    double read = 0;
    for (HintScan scan : scans) {
      if (!scan.nodeType().equals("Index Scan") && !scan.nodeType().equals("Index Only Scan")) {
        violations.add(scan.nodeType() + " on refresh_hint");
      }
      read += scan.rowsRead();
    }
    if (read > 3.0 * REPOSITORIES) {
      violations.add(
          "read " + (long) read + " rows of refresh_hint for " + REPOSITORIES + " repositories");
    }
    return violations;
  }

  @Test
  void theRefreshCandidatesAreIndexDrivenWith100000PendingHints() throws Exception {
    assertThat(count("select count(*) from refresh_hint")).isEqualTo(HINTS);

    List<HintScan> planned = hintScans(explain("FORMAT JSON"));
    assertThat(planned)
        .isNotEmpty()
        .allSatisfy(s -> assertThat(s.nodeType()).isIn("Index Scan", "Index Only Scan"));

    String analyzed = explain("ANALYZE, BUFFERS, FORMAT JSON");
    List<HintScan> executed = hintScans(analyzed);
    assertThat(violations(executed)).as("%s", executed).isEmpty();
    assertThat(executed).extracting(HintScan::index).contains("refresh_hint_repository");
    assertThat(count("select count(*) from lease where owner_id like 'plan:%'"))
        .as("EXPLAIN ANALYZE claimed nothing")
        .isZero();

    String text = explain("ANALYZE, BUFFERS");
    Path out = Path.of("target", "refresh-candidates-plan.txt");
    Files.createDirectories(out.getParent());
    Files.writeString(out, text + "\n");
    System.out.println(
        "EXPLAIN (ANALYZE, BUFFERS) of the refresh claim-next, %d pending hints over %d repositories:%n%s"
            .formatted(HINTS, REPOSITORIES, text));

    // The claim itself takes what grouping all hints would: the repository whose oldest due hint
    // is the oldest, among those whose refresh lease is free.
    String expected = pickedByGrouping();
    Optional<ClaimResult.Granted> granted =
        store.claimNext(
            Lanes.REFRESH, owner, LeasePolicy.defaults(), picker.complete(WorkKind.REFRESH));
    assertThat(granted)
        .hasValueSatisfying(g -> assertThat(g.lease().key().resource()).isEqualTo(expected));
  }

  @Test
  void workPickingFallsBackToTheCompleteQueryWhenTheFirstHintsAreAllTaken() {
    // The oldest hints are all on the repository whose refresh lease another worker holds: the
    // bounded tier finds nothing claimable, and the complete query picks what grouping would.
    String expected = pickedByGrouping();
    List<WorkPicking.Tier> tiers = picker.tiers(WorkKind.REFRESH, false);
    assertThat(tiers).hasSize(2);
    assertThat(
            store.claimNext(
                Lanes.REFRESH, owner, LeasePolicy.defaults(), tiers.get(0).candidates()))
        .isEmpty();

    Optional<WorkPicking.Pick> pick = new WorkPicking(store, SyncSettings.defaults()).next(owner);
    assertThat(pick)
        .hasValueSatisfying(
            p -> {
              assertThat(p.kind()).isEqualTo(WorkKind.REFRESH);
              assertThat(p.lease().key().resource()).isEqualTo(expected);
            });
  }

  /** The repository grouping all hints picks: the oldest due hint among free refresh leases. */
  private String pickedByGrouping() {
    return jdbi.withHandle(
            h ->
                h.createQuery(
                        """
                        select 'repo:' || h.repository_id from refresh_hint h
                          join lease l on l.resource = 'repo:' || h.repository_id
                                      and l.lane = 'refresh' and l.owner_id is null
                         where h.last_attempt_at is null
                         group by h.repository_id
                         order by min(h.first_seen_at), h.repository_id
                         limit 1
                        """)
                    .mapTo(String.class)
                    .one());
  }

  @Test
  void withoutTheIndexThePlanIsNotIndexDriven() throws Exception {
    jdbi.useHandle(h -> h.execute("drop index refresh_hint_repository"));
    try {
      jdbi.useHandle(h -> h.execute("analyze refresh_hint"));
      assertThat(violations(hintScans(explain("ANALYZE, FORMAT JSON")))).isNotEmpty();
    } finally {
      jdbi.useHandle(
          h ->
              h.execute(
                  "create index refresh_hint_repository on refresh_hint"
                      + " (repository_id, first_seen_at)"));
    }
  }
}
