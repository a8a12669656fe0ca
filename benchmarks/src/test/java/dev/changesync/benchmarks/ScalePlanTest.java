package dev.changesync.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.StatusService;
import dev.changesync.engine.sync.SyncSettings;
import dev.changesync.engine.sync.WorkKind;
import dev.changesync.engine.sync.WorkPicking;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Plan shape at 100,000 tracked repositories ({@link ScaleSeed}): every claim-next statement a
 * worker runs — each tier of each kind of work, exactly as {@link
 * PostgresLeaseStore#explainClaimNext} builds it from {@link WorkPicking#tiers} — and
 * the repository status statement ({@link StatusService#explainRepositoryStatus}) read the big
 * tables through indexes only: no sequential scan of {@code repository}, {@code
 * repository_sync_state}, {@code lease}, {@code open_pr} or {@code refresh_hint}; and the tiers
 * that stream (requested fetches, periodic fetches) sort nothing when the planner has statistics.
 *
 * <p>Twice, from a freshly migrated schema: with planner statistics (ANALYZE after seeding, as
 * autovacuum keeps them) and without any (autovacuum off and nobody ran ANALYZE: the planner only
 * knows the tables' sizes on disk). Writes the plans to {@code target/scale-plans-*.txt} (quoted
 * in docs/benchmarks.md, "Work picking at 100,000 repositories").
 */
class ScalePlanTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  static final int REPOSITORIES = 100_000;

  static final Set<String> BIG_TABLES =
      Set.of("repository", "repository_sync_state", "lease", "open_pr", "refresh_hint");

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The text plans written to {@code target/}: {@code EXPLAIN (ANALYZE, BUFFERS)} with {@code
   * -Dchangesync.scale.analyze=true} (as in docs/benchmarks.md; slow: each runs its statement),
   * else plain {@code EXPLAIN}. The assertions read the JSON plans either way.
   */
  private static final String TEXT_PLAN =
      Boolean.getBoolean("changesync.scale.analyze") ? "ANALYZE, BUFFERS" : "COSTS";

  @ParameterizedTest(name = "analyzed: {0}")
  @ValueSource(booleans = {true, false})
  void everyPickAndStatusStatementIsIndexDriven(boolean analyzed) throws Exception {
    Jdbi jdbi = Jdbi.create(db.dataSource());
    // A fresh schema, so that no statistics of an earlier run survive (TRUNCATE keeps them).
    jdbi.useHandle(h -> h.execute("drop schema public cascade; create schema public"));
    Migrations.migrate(db.dataSource());
    jdbi.useHandle(h -> h.createScript(ScaleSeed.sql(REPOSITORIES)).execute());
    if (analyzed) {
      jdbi.useHandle(h -> h.execute("analyze"));
    }
    long leases = count(jdbi, "select count(*) from lease");
    assertThat(leases).isEqualTo(3L * REPOSITORIES);

    PostgresLeaseStore store = PostgresLeaseStore.builder(db.dataSource()).build();
    SyncSettings settings = SyncSettings.defaults();
    WorkPicking picking = new WorkPicking(store, settings);
    OwnerId owner = OwnerId.newIncarnation("plan");
    StatusService status = new StatusService(jdbi, DbTime.database());

    Map<String, String> jsonPlans = new LinkedHashMap<>();
    Map<String, String> textPlans = new LinkedHashMap<>();
    List<String> streaming = new ArrayList<>();
    for (WorkKind kind : WorkKind.values()) {
      for (WorkPicking.Tier tier : picking.tiers(kind, false)) {
        String name = "claim-next " + kind + " (" + tier.name() + ")";
        String lane = kind.lane().leaseLane();
        jsonPlans.put(
            name,
            store.explainClaimNext(
                lane, owner, settings.leasePolicy(), tier.candidates(), "FORMAT JSON"));
        textPlans.put(
            name,
            store.explainClaimNext(
                lane, owner, settings.leasePolicy(), tier.candidates(), TEXT_PLAN));
        if (tier.streams()) {
          streaming.add(name);
        }
      }
    }
    // An idle repository and a busy one (dirty, hints, stale PRs, leases held).
    for (RepoName repo : List.of(RepoName.of("org" + (500 % 997), "repo500"),
        RepoName.of("org" + (1082 % 997), "repo1082"))) {
      String name = "repository status " + repo;
      jsonPlans.put(name, status.explainRepositoryStatus(repo, "FORMAT JSON"));
      textPlans.put(name, status.explainRepositoryStatus(repo, TEXT_PLAN));
    }
    long claimed = count(jdbi, "select count(*) from lease where owner_id like 'plan:%'");
    assertThat(claimed)
        .as("EXPLAIN ANALYZE claimed nothing")
        .isZero();

    StringBuilder out = new StringBuilder();
    textPlans.forEach((name, plan) -> out.append("-- ").append(name).append('\n').append(plan)
        .append("\n\n"));
    Path file = Path.of("target", "scale-plans-" + (analyzed ? "analyzed" : "no-statistics") + ".txt");
    Files.createDirectories(file.getParent());
    Files.writeString(file, out);
    System.out.println(out);

    Map<String, List<String>> seqScans = new LinkedHashMap<>();
    for (Map.Entry<String, String> plan : jsonPlans.entrySet()) {
      List<String> found = seqScans(plan.getValue());
      if (!found.isEmpty()) {
        seqScans.put(plan.getKey(), found);
      }
    }
    assertThat(seqScans).as("sequential scans of big tables, by statement").isEmpty();
    // A streaming tier reads its candidates in order from an index and stops at the first
    // claimable one: a sort would mean reading them all first. Without statistics the planner
    // may sort the never-scanned candidates it believes to be few (docs/benchmarks.md): that plan
    // is still index-driven, checked above.
    Map<String, List<String>> sorted = new LinkedHashMap<>();
    for (String name : streaming) {
      List<String> sorts = nodes(jsonPlans.get(name), "Sort");
      if (!sorts.isEmpty()) {
        sorted.put(name, sorts);
      }
    }
    assertThat(streaming).hasSize(3);
    if (analyzed) {
      assertThat(sorted).as("sorts in streaming claim-next plans").isEmpty();
    }
    assertThat(jsonPlans.keySet()).hasSize(9);
  }

  private static long count(Jdbi jdbi, String sql) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  /** The big tables a JSON plan reads by sequential scan. */
  static List<String> seqScans(String jsonPlan) throws Exception {
    List<String> found = new ArrayList<>();
    collect(JSON.readTree(jsonPlan).get(0).get("Plan"), found);
    return found;
  }

  /** The nodes of type {@code nodeType} in a JSON plan, with the relation they read if any. */
  static List<String> nodes(String jsonPlan, String nodeType) throws Exception {
    List<String> found = new ArrayList<>();
    collectNodes(JSON.readTree(jsonPlan).get(0).get("Plan"), nodeType, found);
    return found;
  }

  private static void collectNodes(JsonNode node, String nodeType, List<String> found) {
    if (node.path("Node Type").asText().equals(nodeType)) {
      found.add(nodeType + " " + node.path("Sort Key").toString());
    }
    for (JsonNode child : node.path("Plans")) {
      collectNodes(child, nodeType, found);
    }
  }

  private static void collect(JsonNode node, List<String> found) {
    String relation = node.path("Relation Name").asText("");
    if (node.path("Node Type").asText().equals("Seq Scan") && BIG_TABLES.contains(relation)) {
      found.add(relation);
    }
    for (JsonNode child : node.path("Plans")) {
      collect(child, found);
    }
  }
}
