package dev.changesync.cli;

import static dev.changesync.cli.CliRunner.cli;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.changesync.engine.Changesync;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.ApiJson;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.http.ChangesyncServer;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeaseLostException;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every command against the database directly and against a running server — started in this
 * process on port 0, on the same database — gives the same answers: the same {@code --json}, the
 * same errors and exit codes.
 *
 * <p>The data: a repository synced from the fake GitHub by an embedded worker (which then stops,
 * so nothing changes underneath), plus leases claimed by the test.
 */
class BothModesTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final RepoName WIDGETS = RepoName.of("acme", "widgets");
  private static final ObjectMapper JSON = ApiJson.newMapper();

  /** Where a command gets its answers. */
  enum Mode {
    DATABASE,
    SERVER
  }

  private static ChangesyncServer server;
  private static long repoId;
  private static int pullWithFiles;
  private static Jdbi jdbi;

  @BeforeAll
  static void syncARepositoryAndStartAServer() {
    try (FakeGitHub fake = FakeGitHub.start()) {
      FakeRepo repo = fake.createRepo("acme", "widgets");
      repo.openPrs(4);
      pullWithFiles =
          repo.openPrs(1, PrSpec.files(3).withBinaryFiles(1).withRenamedFiles(1)).get(0).number();
      try (Changesync worker = Fixtures.workers(db, fake, "both-modes-worker")) {
        repoId = worker.admin().configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 5).repositoryId();
        Fixtures.awaitConverged(worker, WIDGETS, 5);
      }
    }
    server = Fixtures.server(db, null);
    jdbi = Jdbi.create(db.dataSource());
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  private static CliRunner cliIn(Mode mode) {
    return switch (mode) {
      case DATABASE -> cli(db);
      case SERVER ->
          cli()
              .env("CHANGESYNC_SERVER_URL", server.baseUri().toString())
              .env("CHANGESYNC_ADMIN_TOKEN", Fixtures.ADMIN_TOKEN);
    };
  }

  private static CliRunner.Result run(Mode mode, String... args) {
    return cliIn(mode).run(args);
  }

  /** The command's --json in both modes, with the "now" of list answers taken out. */
  private static void assertSameJson(String... args) throws Exception {
    List<String> withJson = new ArrayList<>(List.of(args));
    withJson.add("--json");
    CliRunner.Result database = run(Mode.DATABASE, withJson.toArray(String[]::new));
    CliRunner.Result served = run(Mode.SERVER, withJson.toArray(String[]::new));
    assertThat(database.exitCode()).as("database: %s", database).isZero();
    assertThat(served.exitCode()).as("server: %s", served).isZero();
    assertThat(database.out().lines().count()).as("one JSON document").isEqualTo(1);
    assertThat(served.out().lines().count()).as("one JSON document").isEqualTo(1);
    assertThat(withoutNow(database.out()))
        .as(String.join(" ", args))
        .isEqualTo(withoutNow(served.out()));
  }

  private static JsonNode withoutNow(String json) throws Exception {
    JsonNode node = JSON.readTree(json);
    if (node instanceof ObjectNode object) {
      object.remove("now");
    }
    return node;
  }

  // --- the same answers -------------------------------------------------------------------------

  @Test
  void readCommandsPrintTheSameJsonInBothModes() throws Exception {
    PostgresLeaseStore store = PostgresLeaseStore.builder(db.dataSource()).build();
    Lease held =
        claim(store, LeaseKey.of("maintenance", "prune"), new OwnerId("keeper", "k1"));
    MutableClock past = new MutableClock(Instant.now().minus(Duration.ofMinutes(5)));
    Lease stale =
        claim(
            PostgresLeaseStore.builder(db.dataSource()).clock(past).build(),
            Lanes.key(repoId, Lanes.REFRESH),
            new OwnerId("sleeper", "s1"));
    try {
      assertSameJson("status", "acme/widgets");
      assertSameJson("status", "ACME/Widgets");
      assertSameJson("pr", "status", "acme/widgets", Integer.toString(pullWithFiles));
      assertSameJson("pr", "files", "acme/widgets", Integer.toString(pullWithFiles));
      assertSameJson("leases");
      assertSameJson("leases", "--stale");
      assertSameJson("leases", "events");
      assertSameJson("leases", "events", Lanes.resource(repoId), "--limit", "3");
      assertSameJson("leases", "events", "ACME/widgets", "--limit", "3");
      assertSameJson("workers");
    } finally {
      store.release(held, dev.changesync.lease.Completion.none());
      store.releaseManually(stale.key(), "test");
    }
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void readCommandsPrintTables(Mode mode) {
    CliRunner.Result status = run(mode, "status", "acme/widgets");
    assertThat(status.exitCode()).as(status.toString()).isZero();
    assertThat(status.out())
        .contains("Repository:             acme/widgets (id " + repoId + ")")
        .contains("Open PRs:               5 total: 5 current, 0 stale, 0 missing");

    CliRunner.Result pr = run(mode, "pr", "status", "acme/widgets", "" + pullWithFiles);
    assertThat(pr.exitCode()).as(pr.toString()).isZero();
    assertThat(pr.out())
        .contains("Pull request:")
        .contains("acme/widgets#" + pullWithFiles)
        .contains("Inventory:")
        .contains("current");

    CliRunner.Result files = run(mode, "pr", "files", "acme/widgets", "" + pullWithFiles, "--hunks");
    assertThat(files.exitCode()).as(files.toString()).isZero();
    assertThat(files.out()).contains("STATUS").contains("no patch").contains("(from ").contains("@@ -");

    CliRunner.Result workers = run(mode, "workers");
    assertThat(workers.exitCode()).as(workers.toString()).isZero();
    assertThat(workers.out())
        .contains("both-modes-worker:")
        .contains("stopped")
        .containsPattern("GITHUB CREDENTIAL +LEFT +LIMIT +RESETS +SEEN +STATE")
        .containsPattern("token:[0-9a-f]{32} +[0-9]+ +5000 .* ok");

    CliRunner.Result events = run(mode, "leases", "events", "--limit", "2");
    assertThat(events.exitCode()).as(events.toString()).isZero();
    assertThat(events.out().lines()).hasSize(3); // header + 2
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void anUnknownRepositoryOrPullRequestExits1(Mode mode) {
    CliRunner.Result repo = run(mode, "status", "acme/nothing");
    assertThat(repo.exitCode()).isEqualTo(1);
    assertThat(repo.err()).isEqualTo("repository acme/nothing is not tracked\n");
    assertThat(repo.out()).isEmpty();

    CliRunner.Result pr = run(mode, "pr", "files", "acme/widgets", "999999");
    assertThat(pr.exitCode()).isEqualTo(1);
    assertThat(pr.err()).isEqualTo("pull request acme/widgets#999999 has no snapshot\n");

    CliRunner.Result fetch = run(mode, "fetch", "acme/nothing");
    assertThat(fetch.exitCode()).isEqualTo(1);
    assertThat(fetch.err()).isEqualTo("repository acme/nothing is not tracked\n");

    CliRunner.Result release = run(mode, "leases", "release", "repo:999999", "fetch");
    assertThat(release.exitCode()).isEqualTo(1);
    assertThat(release.err()).isEqualTo("lease (repo:999999, fetch) is not held by anyone\n");

    CliRunner.Result byName = run(mode, "leases", "release", "acme/nothing", "fetch");
    assertThat(byName.exitCode()).isEqualTo(1);
    assertThat(byName.err()).isEqualTo("repository acme/nothing is not tracked\n");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void badInputTheEngineRejectsIsAUsageError(Mode mode) {
    CliRunner.Result r = run(mode, "leases", "release", "repo:1", " fetch");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).startsWith("invalid lease: lane must not start or end with whitespace");
    assertThat(r.err()).contains("Usage: changesync leases release");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void adminCommandsAnswerAlikeInBothModes(Mode mode) throws Exception {
    CliRunner.Result fetch = run(mode, "fetch", "acme/widgets", "--json");
    assertThat(fetch.exitCode()).as(fetch.toString()).isZero();
    JsonNode fetched = JSON.readTree(fetch.out());
    assertThat(fetched.path("full_name").asText()).isEqualTo("acme/widgets");
    assertThat(fetched.path("dirty").asBoolean()).isTrue();

    CliRunner.Result backfill =
        run(mode, "backfill", "acme/widgets", "--mode", "open_only", "--priority", "7", "--json");
    assertThat(backfill.exitCode()).as(backfill.toString()).isZero();
    JsonNode configured = JSON.readTree(backfill.out());
    assertThat(configured.path("backfill_mode").asText()).isEqualTo("open_only");
    assertThat(configured.path("backfill_priority").asInt()).isEqualTo(7);
    assertThat(configured.fieldNames()).toIterable().containsExactlyElementsOf(() -> fetched.fieldNames());

    CliRunner.Result human = run(mode, "backfill", "acme/widgets", "--priority", "5");
    assertThat(human.out()).startsWith("acme/widgets: backfill open_only, priority 5; fetch requested at ");

    CliRunner.Result recover = run(mode, "recover", "--json");
    assertThat(recover.exitCode()).as(recover.toString()).isZero();
    JsonNode recovered = JSON.readTree(recover.out());
    assertThat(recovered.path("recovered_by").asText()).startsWith("admin@");
    assertThat(recovered.has("total")).isTrue();
    assertThat(run(mode, "recover").out()).startsWith("Recovery pass as admin@");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void aManualReleaseFencesTheOldOwner(Mode mode) throws Exception {
    PostgresLeaseStore store = PostgresLeaseStore.builder(db.dataSource()).build();
    OwnerId holder = new OwnerId("holder-" + mode.name().toLowerCase(), "h1");
    LeaseKey key = Lanes.key(repoId, Lanes.FETCH);
    Lease lease = claim(store, key, holder);
    Integer written = store.inLease(lease, h -> h.select("select 1").mapTo(Integer.class).one());
    assertThat(written).as("a guarded write works while the lease is held").isEqualTo(1);

    CliRunner.Result r = run(mode, "leases", "release", key.resource(), key.lane());

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out())
        .contains("Released:       " + key.resource() + " fetch")
        .contains("Previous owner: " + holder)
        .contains("Previous token: " + lease.token())
        .contains("its next heartbeat or guarded write fails");
    assertThatThrownBy(() -> store.inLease(lease, h -> h.execute("select 1")))
        .isInstanceOf(LeaseLostException.class);

    CliRunner.Result events = run(mode, "leases", "events", key.resource(), "--limit", "3", "--json");
    JsonNode released = JSON.readTree(events.out()).path("events");
    assertThat(released.findValuesAsText("kind")).contains("manually_released");
    JsonNode manual = null;
    for (JsonNode e : released) {
      if (e.path("kind").asText().equals("manually_released")) {
        manual = e;
        break;
      }
    }
    assertThat(manual).isNotNull();
    assertThat(manual.path("previous_owner_id").asText()).isEqualTo(holder.toString());
    assertThat(manual.path("previous_token").asLong()).isEqualTo(lease.token());
    assertThat(manual.path("detail").asText()).startsWith("released by hand by cli:");
  }

  @Test
  void migrateOnACurrentSchemaChangesNothing() {
    CliRunner.Result r = cli(db).run("migrate");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).matches("The schema of jdbc:postgresql://.* is current \\(version \\d+\\)\\.\\n");
  }

  private static Lease claim(PostgresLeaseStore store, LeaseKey key, OwnerId owner) {
    ClaimResult result = store.claim(key, owner, LeasePolicy.defaults());
    assertThat(result).isInstanceOf(ClaimResult.Granted.class);
    return ((ClaimResult.Granted) result).lease();
  }
}
