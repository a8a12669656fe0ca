package dev.changesync.engine;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import com.google.common.base.Ticker;
import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubListener;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.github.HttpGitHub;
import dev.changesync.engine.lease.LivenessSession;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.LeaseList;
import dev.changesync.engine.service.RecoveryResult;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.engine.service.UnavailableException;
import dev.changesync.engine.sync.SyncSettings;
import dev.changesync.engine.sync.Worker;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.MigrationException;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakePr;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.PrSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The embedding API as a service uses it: real PostgreSQL, the fake GitHub over HTTP, the worker on
 * its own threads. Real time is unavoidable, so the tests wait on conditions (Awaitility).
 */
class ChangesyncTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  @RegisterExtension static final PostgresDatabase blank = PostgresDatabase.empty();

  private static final RepoName WIDGETS = RepoName.of("acme", "widgets");

  /** Quick polling; backfill passes may follow each other at once. */
  private static final SyncSettings FAST =
      SyncSettings.builder()
          .pollEvery(Duration.ofMillis(20))
          .backfillInterval(Duration.ZERO)
          .shutdownGrace(Duration.ofSeconds(20))
          .build();

  private FakeGitHub fake;
  private Jdbi jdbi;
  private final List<Changesync> instances = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    fake = FakeGitHub.start();
    jdbi = Jdbi.create(db.dataSource());
  }

  @AfterEach
  void tearDown() {
    instances.forEach(Changesync::close);
    fake.close();
  }

  private GitHubSettings github() {
    return GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
        .baseUrl(fake.baseUri())
        .build();
  }

  /** An instance on the test database and the fake, not started. */
  private Changesync.Builder embedded(String workerName) {
    return Changesync.builder()
        .jdbcUrl(db.jdbcUrl())
        .github(github())
        .syncSettings(FAST)
        .workerName(workerName);
  }

  private Changesync build(Changesync.Builder builder) {
    Changesync changesync = builder.build();
    instances.add(changesync);
    return changesync;
  }

  private Changesync start(Changesync.Builder builder) {
    return build(builder).start();
  }

  private boolean converged(Changesync changesync, int open) {
    RepositoryStatus s = changesync.status().repositoryStatus(WIDGETS);
    return s.lastOpenPrScanAt().isPresent()
        && s.openPrTotal() == open
        && s.openPrCurrent() == open
        && s.openPrMissing() == 0
        && s.openPrStale() == 0
        && s.openPrCursorNumber().isEmpty();
  }

  private long count(String sql) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  private long countFor(String sql, OwnerId owner) {
    return jdbi.withHandle(
        h -> h.createQuery(sql).bind("owner", owner.toString()).mapTo(Long.class).one());
  }

  // --- working ----------------------------------------------------------------------------------

  @Test
  void anEmbeddedInstanceTracksARepositoryUntilItConverges() {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    repo.openPrs(26);
    repo.openPrs(2, PrSpec.files(3).withBinaryFiles(1).withRenamedFiles(1));
    repo.openPrs(2, PrSpec.files(4).withDraft(true));
    Changesync changesync = start(embedded("embedded-1"));

    RepositoryStatus tracked =
        changesync.admin().configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 5);

    assertThat(tracked.backfillMode()).isEqualTo(BackfillMode.OPEN_ONLY);
    assertThat(tracked.dirty()).isTrue();
    await()
        .atMost(60, SECONDS)
        .pollInterval(50, MILLISECONDS)
        .until(() -> converged(changesync, 30));
    List<Integer> inventory =
        jdbi.withHandle(
            h ->
                h.createQuery("select number from open_pr order by number")
                    .mapTo(Integer.class)
                    .list());
    assertThat(inventory)
        .containsExactlyElementsOf(repo.openPulls().stream().map(FakePr::number).sorted().toList());
    assertThat(changesync.status().repositoryStatus(WIDGETS).lastError()).isEmpty();
  }

  @Test
  void closeReleasesEveryLeaseItHeldAndMarksTheWorkerStopped() {
    FakeRepo repo = fake.createRepo("acme", "widgets");
    repo.openPrs(30);
    fake.latency(Duration.ofMillis(20)); // a backfill pass of 30 PRs takes over a second
    Changesync changesync = start(embedded("embedded-1"));
    OwnerId owner = changesync.owner();
    changesync.admin().configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0);
    await()
        .atMost(60, SECONDS)
        .pollInterval(10, MILLISECONDS)
        .until(
            () ->
                countFor(
                        "select count(*) from lease where owner_id = :owner and lane = 'backfill'",
                        owner)
                    > 0);

    changesync.close();

    assertThat(count("select count(*) from lease where owner_id is not null"))
        .as("leases still owned")
        .isZero();
    assertThat(
            countFor(
                "select count(*) from lease_event_log where owner_id = :owner"
                    + " and kind in ('claimed', 'reclaimed')",
                owner))
        .isPositive()
        .isEqualTo(
            countFor(
                "select count(*) from lease_event_log where owner_id = :owner and kind = 'released'",
                owner));
    Changesync reader = start(Changesync.builder().dataSource(db.dataSource()).runWorkers(false));
    assertThat(reader.leases().workers().workers())
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.ownerId()).isEqualTo(owner.toString());
              assertThat(w.stoppedAt()).isPresent();
              assertThat(w.alive()).isFalse();
              assertThat(w.livenessTracked()).isTrue();
            });
  }

  @Test
  void theInjectedClockDecidesNowForLeasesLanesAndServices() {
    fake.createRepo("acme", "widgets").openPrs(3);
    MutableClock clock = new MutableClock();
    Changesync changesync = start(embedded("clocked").clock(clock));

    RepositoryStatus tracked =
        changesync.admin().configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0);

    assertThat(tracked.dirtySince()).contains(clock.instant());
    await().atMost(30, SECONDS).until(() -> converged(changesync, 3));
    RepositoryStatus synced = changesync.status().repositoryStatus(WIDGETS);
    assertThat(synced.lastOpenPrScanAt()).contains(clock.instant());
    assertThat(synced.lastBackfillStartedAt()).contains(clock.instant());
    assertThat(changesync.leases().workers().workers())
        .singleElement()
        .satisfies(w -> assertThat(w.startedAt()).isEqualTo(clock.instant()));
  }

  @Test
  void runningWorkersPruneWebhookDeliveriesOlderThanTheirRetention() {
    MutableClock clock = new MutableClock();
    jdbi.useHandle(
        h ->
            h.createUpdate(
                    "insert into webhook_delivery (delivery_id, event, received_at, outcome)"
                        + " values ('old', 'ping', :old, 'ignored'), ('recent', 'ping', :recent,"
                        + " 'ignored')")
                .bind("old", retentionEdge(clock).minusSeconds(1))
                .bind("recent", retentionEdge(clock).plusSeconds(1))
                .execute());

    start(embedded("housekeeper").clock(clock));

    await()
        .atMost(30, SECONDS)
        .untilAsserted(() -> assertThat(deliveryIds()).containsExactly("recent"));
  }

  private List<String> deliveryIds() {
    return jdbi.withHandle(
        h -> h.createQuery("select delivery_id from webhook_delivery").mapTo(String.class).list());
  }

  private static java.time.OffsetDateTime retentionEdge(MutableClock clock) {
    return clock
        .instant()
        .minus(Changesync.WEBHOOK_DELIVERY_RETENTION)
        .atOffset(java.time.ZoneOffset.UTC);
  }

  // --- lifecycle --------------------------------------------------------------------------------

  @Test
  void startAndCloseAreSafeToRepeat() {
    Changesync changesync = build(embedded("twice"));
    OwnerId owner = changesync.owner();
    assertThat(owner.workerName()).isEqualTo("twice");
    assertThatThrownBy(changesync::status)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("call start() first");
    assertThat(changesync.worker()).isEmpty();
    assertThat(changesync.readiness().ready()).isFalse();

    assertThat(changesync.start()).isSameAs(changesync);
    Worker worker = changesync.worker().orElseThrow();
    assertThat(changesync.start()).isSameAs(changesync);
    assertThat(changesync.worker()).containsSame(worker);
    assertThat(worker.isRunning()).isTrue();
    assertThat(countFor("select count(*) from worker where owner_id = :owner", owner))
        .as("registered once")
        .isEqualTo(1);

    changesync.close();
    changesync.close();

    assertThat(worker.isRunning()).isFalse();
    assertThat(changesync.readiness())
        .satisfies(r -> assertThat(r.ready()).isFalse())
        .satisfies(r -> assertThat(r.problem()).contains("Changesync is closed"));
    assertThatThrownBy(changesync::admin)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(changesync::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("build a new one");
  }

  @Test
  void closingBeforeStartingIsFineAndFinal() {
    Changesync changesync = build(embedded("never-started"));

    changesync.close();

    assertThatThrownBy(changesync::start).isInstanceOf(IllegalStateException.class);
    assertThat(count("select count(*) from worker")).isZero();
  }

  @Test
  void theBuilderRefusesSettingsThatDoNotFitTogether() {
    assertThatThrownBy(
            () ->
                Changesync.builder()
                    .dataSource(db.dataSource())
                    .embeddedDatabase(java.nio.file.Path.of("/nonexistent"))
                    .github(github())
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("more than one of dataSource(...), jdbcUrl(...) and embeddedDatabase");
    assertThatThrownBy(
            () ->
                Changesync.builder()
                    .dataSource(db.dataSource())
                    .jdbcUrl(db.jdbcUrl())
                    .github(github())
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("more than one of");
    assertThatThrownBy(() -> Changesync.builder().dataSource(db.dataSource()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("workers need GitHub");
    assertThatThrownBy(
            () ->
                Changesync.builder()
                    .dataSource(db.dataSource())
                    .github(HttpGitHub.create(github()))
                    .githubListener(new GitHubListener() {})
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("githubListener");
    assertThatThrownBy(
            () -> Changesync.builder().jdbcUrl("jdbc:mysql://localhost/x?password=hunter2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PostgreSQL JDBC URL")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> Changesync.builder().workerName("two words"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workerName");
  }

  // --- roles ------------------------------------------------------------------------------------

  @Test
  void anHttpOnlyInstanceServesButNeverClaims() {
    fake.createRepo("acme", "widgets").openPrs(3);
    Changesync changesync =
        start(Changesync.builder().jdbcUrl(db.jdbcUrl()).runWorkers(false).workerName("api-1"));

    RepositoryStatus tracked =
        changesync.admin().configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0);

    assertThat(changesync.worker()).isEmpty();
    assertThat(changesync.owner().workerName()).isEqualTo("admin@api-1");
    assertThat(tracked.dirty()).isTrue();
    await()
        .during(500, MILLISECONDS)
        .atMost(5, SECONDS)
        .until(() -> count("select count(*) from lease where owner_id is not null") == 0);
    assertThat(count("select count(*) from worker")).isZero();
    assertThat(count("select count(*) from lease_event_log")).isZero();
    assertThat(fake.totalRequests()).isZero();
    assertThat(changesync.status().repositoryStatus(WIDGETS).lastOpenPrScanAt()).isEmpty();
  }

  @Test
  void recoveryWithoutWorkersNeverFreesALiveWorkerOfTheSameNameButFreesDeadOnes()
      throws Exception {
    PGSimpleDataSource plain = new PGSimpleDataSource();
    plain.setURL(db.jdbcUrl());
    LeasePolicy policy = LeasePolicy.ofTtl(Duration.ofMinutes(15));
    LeaseKey aliveKey = LeaseKey.of("repo:1", "fetch");
    LeaseKey deadKey = LeaseKey.of("repo:2", "fetch");
    OwnerId alive = OwnerId.newIncarnation("shared-name");
    OwnerId dead = OwnerId.newIncarnation("shared-name");
    try (LivenessSession aliveSession = LivenessSession.open(plain, alive)) {
      try (LivenessSession deadSession = LivenessSession.open(plain, dead)) {
        PostgresLeaseStore deadStore =
            PostgresLeaseStore.builder(db.dataSource()).liveness(deadSession).build();
        assertThat(deadStore.claim(deadKey, dead, policy)).isInstanceOf(ClaimResult.Granted.class);
      } // its process is gone
      // ... and has been silent for longer than the liveness grace.
      Jdbi.create(db.dataSource())
          .useHandle(
              h ->
                  h.execute(
                      "update lease set heartbeat_at = heartbeat_at - interval '5 seconds'"
                          + " where resource = 'repo:2'"));
      PostgresLeaseStore aliveStore =
          PostgresLeaseStore.builder(db.dataSource()).liveness(aliveSession).build();
      assertThat(aliveStore.claim(aliveKey, alive, policy)).isInstanceOf(ClaimResult.Granted.class);
      Changesync admin =
          start(
              Changesync.builder()
                  .jdbcUrl(db.jdbcUrl())
                  .runWorkers(false)
                  .migrateOnStart(false)
                  .workerName("shared-name"));

      RecoveryResult recovery = admin.leases().recover();

      assertThat(recovery.recoveredBy()).startsWith("admin@shared-name:");
      assertThat(recovery.freed())
          .singleElement()
          .satisfies(
              f -> {
                assertThat(f.resource()).isEqualTo("repo:2");
                assertThat(f.ownerId()).isEqualTo(dead.toString());
                assertThat(f.reason()).isEqualTo("OWNER_GONE");
              });
      assertThat(admin.leases().leases(false).leases())
          .extracting(LeaseList.Entry::resource, LeaseList.Entry::ownerId)
          .containsExactly(tuple("repo:1", alive.toString()));
    }
  }

  // --- configuration ----------------------------------------------------------------------------

  @Test
  void fromConfigMapsTheSettings() {
    fake.createRepo("acme", "widgets").openPrs(3);
    ChangesyncConfig config =
        ChangesyncConfig.from(
            Map.ofEntries(
                Map.entry("CHANGESYNC_DATABASE_URL", db.jdbcUrl()),
                Map.entry("CHANGESYNC_WORKER_NAME", "configured-worker"),
                Map.entry("CHANGESYNC_WORKER_THREADS", "3"),
                Map.entry("CHANGESYNC_LEASE_TTL", "1m"),
                Map.entry("CHANGESYNC_LIVENESS", "off"),
                Map.entry("CHANGESYNC_POLL_INTERVAL", "100ms"),
                Map.entry("CHANGESYNC_BACKFILL_INTERVAL", "0s"),
                Map.entry("CHANGESYNC_BACKFILL_MAX_PRS", "2"),
                Map.entry("CHANGESYNC_SHUTDOWN_GRACE", "7s"),
                Map.entry("CHANGESYNC_GITHUB_API_URL", fake.baseUrl()),
                Map.entry("CHANGESYNC_GITHUB_TOKEN", FakeGitHub.DEFAULT_TOKEN),
                Map.entry("CHANGESYNC_WEBHOOK_SECRET", "It's a Secret to Everybody")));

    Changesync changesync = start(Changesync.fromConfig(config));

    assertThat(changesync.owner().workerName()).isEqualTo("configured-worker");
    SyncSettings settings = changesync.worker().orElseThrow().settings();
    assertThat(settings).isEqualTo(SyncSettings.from(config));
    assertThat(settings.workerThreads()).isEqualTo(3);
    assertThat(settings.leasePolicy().leaseFor()).isEqualTo(Duration.ofMinutes(1));
    assertThat(settings.pollEvery()).isEqualTo(Duration.ofMillis(100));
    assertThat(settings.backfillMaxPulls()).isEqualTo(2);
    assertThat(settings.shutdownGrace()).isEqualTo(Duration.ofSeconds(7));
    assertThat(changesync.webhooks().enabled()).isTrue();
    assertThat(changesync.leases().workers().workers())
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.ownerId()).isEqualTo(changesync.owner().toString());
              assertThat(w.livenessTracked()).as("liveness off").isFalse();
              assertThat(w.alive()).isTrue();
            });
    // GitHub's URL and token reached the client: the repository syncs.
    changesync.admin().configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0);
    await().atMost(30, SECONDS).until(() -> converged(changesync, 3));
    assertThat(count("select count(*) from lease where liveness_key is not null")).isZero();
  }

  @Test
  void fromConfigOfTheHttpRoleRunsNoWorkersAndNeedsNoGitHub() {
    ChangesyncConfig config =
        ChangesyncConfig.from(
            Map.of("CHANGESYNC_DATABASE_URL", db.jdbcUrl(), "CHANGESYNC_ROLE", "http"));

    Changesync changesync = start(Changesync.fromConfig(config));

    assertThat(changesync.worker()).isEmpty();
    assertThat(changesync.owner().workerName()).isEqualTo("admin@" + config.workerName());
    assertThat(changesync.webhooks().enabled()).isFalse();
    assertThat(changesync.readiness().ready()).isTrue();
  }

  @Test
  void fromConfigNeedsNeitherADatabaseUrlNorGitHubCredentials() {
    // No GitHub credentials: workers read public repositories anonymously.
    ChangesyncConfig noGitHub =
        ChangesyncConfig.from(Map.of("CHANGESYNC_DATABASE_URL", db.jdbcUrl()));
    assertThat(Changesync.fromConfig(noGitHub).build()).isNotNull();
    assertThat(Changesync.fromConfig(noGitHub).runWorkers(false).build()).isNotNull();
  }

  // --- schema and readiness ---------------------------------------------------------------------

  @Test
  void readinessFollowsTheSchema() {
    // A worker refuses an uninitialised schema when it may not migrate it, and leaves nothing open.
    Changesync worker =
        build(
            Changesync.builder()
                .jdbcUrl(blank.jdbcUrl())
                .github(github())
                .migrateOnStart(false)
                .workerName("refused"));
    assertThatThrownBy(worker::start)
        .isInstanceOf(MigrationException.class)
        .hasMessageContaining("not initialised");
    assertThatThrownBy(worker::start).hasMessageContaining("build a new one");

    // Without workers it starts, and says what is wrong.
    AtomicLong nanos = new AtomicLong();
    Ticker ticker =
        new Ticker() {
          @Override
          public long read() {
            return nanos.get();
          }
        };
    Changesync api =
        start(
            Changesync.builder()
                .jdbcUrl(blank.jdbcUrl())
                .runWorkers(false)
                .migrateOnStart(false)
                .ticker(ticker));
    Changesync.Readiness before = api.readiness();
    assertThat(before.ready()).isFalse();
    assertThat(before.databaseReachable()).isTrue();
    assertThat(before.schemaCurrent()).isFalse();
    assertThat(before.problem()).hasValueSatisfying(p -> assertThat(p).contains("not initialised"));

    Changesync migrator = start(Changesync.builder().jdbcUrl(blank.jdbcUrl()).runWorkers(false));
    assertThat(migrator.migration().orElseThrow().changed()).isTrue();
    assertThat(migrator.readiness().ready()).isTrue();

    assertThat(api.readiness().ready()).as("a failed check is trusted a little while").isFalse();
    nanos.addAndGet(Changesync.SCHEMA_PROBLEM_CACHED_FOR.toNanos());
    assertThat(api.readiness()).isEqualTo(new Changesync.Readiness(true, true, Optional.empty()));
  }

  @Test
  void anUnreachableDatabaseIsReportedNotHidden() {
    String nowhere = "jdbc:postgresql://127.0.0.1:1/changesync?user=nobody&connectTimeout=1";
    // An owned pool connects lazily: starting without migrations needs no database yet.
    start(Changesync.builder().jdbcUrl(nowhere).runWorkers(false).migrateOnStart(false)).close();
    // Unpooled, so that every attempt fails at once instead of waiting for a pooled connection.
    PGSimpleDataSource unreachable = new PGSimpleDataSource();
    unreachable.setURL(nowhere);
    Changesync reader =
        start(Changesync.builder().dataSource(unreachable).runWorkers(false).migrateOnStart(false));

    Changesync.Readiness readiness = reader.readiness();

    assertThat(readiness.ready()).isFalse();
    assertThat(readiness.databaseReachable()).isFalse();
    assertThat(readiness.problem())
        .hasValueSatisfying(p -> assertThat(p).startsWith("database unreachable"));
    assertThatThrownBy(() -> reader.status().repositoryStatus(WIDGETS))
        .isInstanceOf(UnavailableException.class);

    Changesync migrating = build(Changesync.builder().dataSource(unreachable).runWorkers(false));
    assertThatThrownBy(migrating::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("migrating the database schema failed");
  }
}
