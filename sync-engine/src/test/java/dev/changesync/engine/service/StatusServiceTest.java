package dev.changesync.engine.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Repository and pull request status, and the admin actions that track repositories and request
 * fetches. The database runs in a far-from-UTC time zone to catch instant / local time mix-ups.
 */
class StatusServiceTest {

  @RegisterExtension
  static final PostgresDatabase db =
      PostgresDatabase.migratedWith(Migrations::migrate).withTimeZone("Pacific/Chatham");

  /** SPEC §4, verbatim. */
  static final Set<String> SPEC_STATUS_FIELDS =
      Set.of(
          "repository_id",
          "full_name",
          "dirty",
          "dirty_since",
          "last_webhook_at",
          "last_requested_fetch_at",
          "last_fetch_started_at",
          "last_fetch_finished_at",
          "last_successful_fetch_at",
          "last_backfill_started_at",
          "last_backfill_finished_at",
          "last_open_pr_scan_at",
          "backfill_mode",
          "backfill_priority",
          "fetch_in_progress",
          "backfill_in_progress",
          "refresh_in_progress",
          "fetch_lease_owner_id",
          "fetch_lease_token",
          "fetch_lease_heartbeat_at",
          "fetch_lease_expires_at",
          "backfill_lease_owner_id",
          "backfill_lease_token",
          "backfill_lease_heartbeat_at",
          "backfill_lease_expires_at",
          "refresh_lease_owner_id",
          "refresh_lease_token",
          "refresh_lease_heartbeat_at",
          "refresh_lease_expires_at",
          "open_pr_total",
          "open_pr_current",
          "open_pr_stale",
          "open_pr_missing",
          "open_pr_cursor_number",
          "open_pr_cursor_updated_at",
          "pending_refresh_count",
          "last_error",
          // issue 16: backoff in the open and honest progress
          "last_error_at",
          "fetch_failure_count",
          "fetch_next_attempt_at",
          "refresh_failure_count",
          "refresh_next_attempt_at",
          "backfill_failure_count",
          "backfill_next_attempt_at",
          "github_not_found_at",
          "converged",
          "phase",
          "github_rate_limit_remaining",
          "github_rate_limit_reset_at");

  private static final RepoName HELLO = RepoName.of("Octo-Org", "Hello.World");
  private static final OwnerId ALICE = new OwnerId("worker-a", "a1");
  private static final OwnerId BOB = new OwnerId("worker-b", "b1");
  private static final LeasePolicy POLICY = LeasePolicy.defaults(); // stale after 30 s

  private final MutableClock clock = new MutableClock();
  private Jdbi jdbi;
  private DbTime time;
  private StatusService status;
  private AdminService admin;
  private PostgresLeaseStore leases;

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    jdbi = Jdbi.create(db.dataSource());
    time = DbTime.injected(clock);
    status = new StatusService(jdbi, time);
    admin = new AdminService(jdbi, time);
    leases = PostgresLeaseStore.builder(db.dataSource()).clock(clock).build();
  }

  private Map<String, Object> syncState(long id) {
    return jdbi.withHandle(
        h ->
            h.createQuery("select * from repository_sync_state where repository_id = :id")
                .bind("id", id)
                .mapToMap()
                .one());
  }

  private long count(String sql, Object... args) {
    return jdbi.withHandle(h -> h.select(sql, args).mapTo(Long.class).one());
  }

  private static Instant instant(Object timestamptz) {
    return ((java.sql.Timestamp) timestamptz).toInstant();
  }

  private Lease claim(long repositoryId, String lane, OwnerId owner) {
    ClaimResult result = leases.claim(Lanes.key(repositoryId, lane), owner, POLICY);
    assertThat(result).isInstanceOf(ClaimResult.Granted.class);
    return ((ClaimResult.Granted) result).lease();
  }

  // --- repository status ------------------------------------------------------------------------

  @Test
  void aNewlyTrackedRepositoryShowsEveryFieldWithNothingInProgress() {
    RepositoryStatus configured = admin.configureBackfill(HELLO, BackfillMode.OPEN_ONLY, 10);
    Instant t0 = clock.instant();

    RepositoryStatus s = status.repositoryStatus(HELLO);

    assertThat(s).isEqualTo(configured);
    assertThat(s.repositoryId()).isPositive();
    assertThat(s.fullName()).isEqualTo("Octo-Org/Hello.World");
    assertThat(s.dirty()).isTrue();
    assertThat(s.dirtySince()).contains(t0);
    assertThat(s.lastRequestedFetchAt()).contains(t0);
    assertThat(s.lastWebhookAt()).isEmpty();
    assertThat(s.lastFetchStartedAt()).isEmpty();
    assertThat(s.lastOpenPrScanAt()).isEmpty();
    assertThat(s.backfillMode()).isEqualTo(BackfillMode.OPEN_ONLY);
    assertThat(s.backfillPriority()).isEqualTo(10);
    assertThat(s.fetchInProgress()).isFalse();
    assertThat(s.refreshInProgress()).isFalse();
    assertThat(s.backfillInProgress()).isFalse();
    assertThat(s.fetchLeaseOwnerId()).isEmpty();
    assertThat(s.fetchLeaseToken()).isEmpty();
    assertThat(s.openPrTotal()).isZero();
    assertThat(s.openPrMissing()).isZero();
    assertThat(s.openPrCursorNumber()).isEmpty();
    assertThat(s.pendingRefreshCount()).isZero();
    assertThat(s.lastError()).isEmpty();
  }

  @Test
  void statusShowsEveryFieldAsStored() {
    long id = admin.configureBackfill(HELLO, BackfillMode.OPEN_ONLY, 3).repositoryId();
    Instant t = MutableClock.DEFAULT_START;
    jdbi.useHandle(
        h ->
            h.createUpdate(
                    """
                    update repository_sync_state set
                      last_webhook_at = :t1, last_fetch_started_at = :t2, last_fetch_finished_at = :t3,
                      last_successful_fetch_at = :t3, last_backfill_started_at = :t4,
                      last_backfill_finished_at = :t5, last_open_pr_scan_at = :t3,
                      open_pr_total = 10, open_pr_current = 6, open_pr_stale = 3,
                      open_pr_cursor_updated_at = :t6, open_pr_cursor_number = 42,
                      last_error = 'GitHub answered 502'
                     where repository_id = :id
                    """)
                .bind("id", id)
                .bind("t1", at(t.plusSeconds(1)))
                .bind("t2", at(t.plusSeconds(2)))
                .bind("t3", at(t.plusMillis(3_123)))
                .bind("t4", at(t.plusSeconds(4)))
                .bind("t5", at(t.plusSeconds(5)))
                .bind("t6", at(Instant.parse("2025-12-24T18:00:00.000001Z")))
                .execute());
    jdbi.useHandle(
        h ->
            h.execute(
                "insert into refresh_hint (repository_id, number, first_seen_at, last_seen_at)"
                    + " values (?, 1, now(), now()), (?, 2, now(), now())",
                id,
                id));
    Lease fetch = claim(id, Lanes.FETCH, ALICE);
    Lease refresh = claim(id, Lanes.REFRESH, BOB);
    clock.advance(Duration.ofSeconds(20));
    Lease backfill = claim(id, Lanes.BACKFILL, BOB);

    RepositoryStatus s = status.repositoryStatus(HELLO);

    assertThat(s.lastWebhookAt()).contains(t.plusSeconds(1));
    assertThat(s.lastFetchStartedAt()).contains(t.plusSeconds(2));
    assertThat(s.lastFetchFinishedAt()).contains(t.plusMillis(3_123));
    assertThat(s.lastSuccessfulFetchAt()).contains(t.plusMillis(3_123));
    assertThat(s.lastBackfillStartedAt()).contains(t.plusSeconds(4));
    assertThat(s.lastBackfillFinishedAt()).contains(t.plusSeconds(5));
    assertThat(s.lastOpenPrScanAt()).contains(t.plusMillis(3_123));
    assertThat(s.openPrTotal()).isEqualTo(10);
    assertThat(s.openPrCurrent()).isEqualTo(6);
    assertThat(s.openPrStale()).isEqualTo(3);
    assertThat(s.openPrMissing()).isEqualTo(1);
    assertThat(s.openPrCursorNumber()).contains(42);
    assertThat(s.openPrCursorUpdatedAt()).contains(Instant.parse("2025-12-24T18:00:00.000001Z"));
    assertThat(s.lastError()).contains("GitHub answered 502");
    assertThat(s.pendingRefreshCount()).isEqualTo(2);
    assertThat(s.fetchInProgress()).isTrue();
    assertThat(s.fetchLeaseOwnerId()).contains(ALICE.toString());
    assertThat(s.fetchLeaseToken()).contains(fetch.token());
    assertThat(s.fetchLeaseHeartbeatAt()).contains(fetch.heartbeatAt());
    assertThat(s.fetchLeaseExpiresAt()).contains(fetch.expiresAt());
    assertThat(s.refreshInProgress()).isTrue();
    assertThat(s.refreshLeaseOwnerId()).contains(BOB.toString());
    assertThat(s.refreshLeaseToken()).contains(refresh.token());
    assertThat(s.refreshLeaseHeartbeatAt()).contains(refresh.heartbeatAt());
    assertThat(s.refreshLeaseExpiresAt()).contains(refresh.expiresAt());
    assertThat(s.backfillInProgress()).isTrue();
    assertThat(s.backfillLeaseOwnerId()).contains(BOB.toString());
    assertThat(s.backfillLeaseToken()).contains(backfill.token());
    assertThat(s.backfillLeaseHeartbeatAt()).contains(backfill.heartbeatAt());
    assertThat(s.backfillLeaseExpiresAt()).contains(backfill.expiresAt());
  }

  private static OffsetDateTime at(Instant instant) {
    return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  @Test
  void jsonHasExactlyTheSpecFieldNames() throws Exception {
    long id = admin.configureBackfill(HELLO, BackfillMode.OPEN_ONLY, 3).repositoryId();
    claim(id, Lanes.FETCH, ALICE);
    RepositoryStatus s = status.repositoryStatus(HELLO);
    ObjectMapper plain =
        new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .registerModule(new Jdk8Module())
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    for (ObjectMapper mapper : List.of(plain, ApiJson.newMapper())) {
      JsonNode json = mapper.valueToTree(s);
      List<String> names = new ArrayList<>();
      json.fieldNames().forEachRemaining(names::add);
      assertThat(names).containsExactlyInAnyOrderElementsOf(SPEC_STATUS_FIELDS);
      assertThat(json.get("backfill_mode").asText()).isEqualTo("open_only");
      assertThat(json.get("dirty_since").asText()).isEqualTo("2026-01-01T00:00:00Z");
      assertThat(json.get("fetch_lease_owner_id").asText()).isEqualTo(ALICE.toString());
      assertThat(json.get("backfill_lease_owner_id").isNull()).isTrue();
      assertThat(json.get("last_error").isNull()).isTrue();
    }
    ObjectMapper api = ApiJson.newMapper();
    assertThat(api.readValue(api.writeValueAsString(s), RepositoryStatus.class)).isEqualTo(s);
  }

  @Test
  void inProgressOnlyWhileTheLeaseIsHeld() {
    long id = admin.configureBackfill(HELLO, BackfillMode.OFF, 0).repositoryId();
    Lease fetch = claim(id, Lanes.FETCH, ALICE);

    clock.advance(POLICY.staleAfter().minusMillis(1));
    RepositoryStatus held = status.repositoryStatus(HELLO);
    assertThat(held.fetchInProgress()).isTrue();
    assertThat(held.backfillInProgress()).isFalse();
    assertThat(held.refreshInProgress()).isFalse();

    clock.advance(Duration.ofMillis(1));
    RepositoryStatus stale = status.repositoryStatus(HELLO);
    assertThat(stale.fetchInProgress()).isFalse();
    // A stale lease still shows who had it, so an operator can see what got stuck.
    assertThat(stale.fetchLeaseOwnerId()).contains(ALICE.toString());
    assertThat(stale.fetchLeaseToken()).contains(fetch.token());

    assertThat(leases.releaseManually(Lanes.key(id, Lanes.FETCH), "test")).isPresent();
    RepositoryStatus free = status.repositoryStatus(HELLO);
    assertThat(free.fetchInProgress()).isFalse();
    assertThat(free.fetchLeaseOwnerId()).isEmpty();
    assertThat(free.fetchLeaseToken()).isEmpty();
    assertThat(free.fetchLeaseHeartbeatAt()).isEmpty();
    assertThat(free.fetchLeaseExpiresAt()).isEmpty();
  }

  @Test
  void namesAreCaseInsensitiveAndKeepTheirFirstSpelling() {
    admin.configureBackfill(HELLO, BackfillMode.OPEN_ONLY, 1);

    RepositoryStatus s = status.repositoryStatus(RepoName.of("octo-org", "HELLO.WORLD"));
    RepositoryStatus again =
        admin.configureBackfill(RepoName.of("OCTO-ORG", "hello.world"), BackfillMode.OFF, 2);

    assertThat(s.fullName()).isEqualTo("Octo-Org/Hello.World");
    assertThat(again.repositoryId()).isEqualTo(s.repositoryId());
    assertThat(again.fullName()).isEqualTo("Octo-Org/Hello.World");
    assertThat(again.backfillMode()).isEqualTo(BackfillMode.OFF);
    assertThat(count("select count(*) from repository")).isEqualTo(1);
  }

  @Test
  void anUntrackedRepositoryIsNotFound() {
    assertThatThrownBy(() -> status.repositoryStatus(HELLO))
        .isInstanceOf(NotFoundException.class)
        .hasMessage("repository Octo-Org/Hello.World is not tracked")
        .extracting(e -> ((ServiceException) e).httpStatus())
        .isEqualTo(404);
  }

  @Test
  void invalidNamesAreRejectedBeforeAnyQuery() {
    for (String[] bad :
        new String[][] {
          {"octo org", "x"},
          {"", "x"},
          {"o".repeat(40), "x"},
          {"o", ".."},
          {"o", "a/b"},
          {"o'; drop table repository; --", "x"},
          {"o", "r".repeat(101)}
        }) {
      assertThatThrownBy(() -> Inputs.repoName(bad[0], bad[1]))
          .isInstanceOf(BadInputException.class)
          .satisfies(e -> assertThat(((ServiceException) e).httpStatus()).isEqualTo(400))
          .satisfies(e -> assertThat(((ServiceException) e).exitCode()).isEqualTo(2));
    }
    assertThatThrownBy(() -> Inputs.repoName("a/b/c")).isInstanceOf(BadInputException.class);
    assertThatThrownBy(() -> Inputs.repoName(null)).isInstanceOf(BadInputException.class);
    assertThat(Inputs.repoName("Octo-Org/Hello.World")).isEqualTo(HELLO);
    for (String bad : new String[] {"0", "-1", "abc", "1.5", "99999999999", "", " 1"}) {
      assertThatThrownBy(() -> Inputs.pullNumber(bad)).isInstanceOf(BadInputException.class);
    }
    assertThat(Inputs.pullNumber("42")).isEqualTo(42);
    assertThatThrownBy(() -> BackfillMode.parse("all")).isInstanceOf(BadInputException.class);
    assertThat(BackfillMode.parse("OPEN_ONLY")).isEqualTo(BackfillMode.OPEN_ONLY);
  }

  @Test
  void anUnreachableDatabaseIsUnavailable() {
    PGSimpleDataSource nowhere = new PGSimpleDataSource();
    nowhere.setServerNames(new String[] {"127.0.0.1"});
    nowhere.setPortNumbers(new int[] {1});
    nowhere.setConnectTimeout(2);
    StatusService offline = new StatusService(Jdbi.create(nowhere), time);

    assertThatThrownBy(() -> offline.repositoryStatus(HELLO))
        .isInstanceOf(UnavailableException.class)
        .hasMessageStartingWith("database unavailable")
        .extracting(e -> ((ServiceException) e).httpStatus())
        .isEqualTo(503);
  }

  // --- admin ------------------------------------------------------------------------------------

  @Test
  void configuringBackfillTracksMarksDirtyAndKeepsTheFirstDirtySince() {
    long id = admin.configureBackfill(HELLO, BackfillMode.OPEN_ONLY, 5).repositoryId();
    Instant first = clock.instant();
    long seq = (Long) syncState(id).get("fetch_request_seq");
    assertThat(count("select count(*) from lease where resource = ?", Lanes.resource(id)))
        .as("lease rows for work picking")
        .isEqualTo(3);

    clock.advance(Duration.ofMinutes(1));
    RepositoryStatus again = admin.configureBackfill(HELLO, BackfillMode.OPEN_ONLY, 7);

    Map<String, Object> state = syncState(id);
    assertThat(state.get("fetch_request_seq")).isEqualTo(seq + 1);
    assertThat(again.dirty()).isTrue();
    assertThat(again.dirtySince()).contains(first);
    assertThat(again.lastRequestedFetchAt()).contains(clock.instant());
    assertThat(again.backfillPriority()).isEqualTo(7);
  }

  @Test
  void aFetchRequestMarksACleanRepositoryDirtyNow() {
    long id = admin.configureBackfill(HELLO, BackfillMode.OFF, 0).repositoryId();
    jdbi.useHandle(
        h ->
            h.execute(
                "update repository_sync_state set dirty = false, dirty_since = null,"
                    + " fetch_pass_seq = fetch_request_seq where repository_id = ?",
                id));
    long seq = (Long) syncState(id).get("fetch_request_seq");
    clock.advance(Duration.ofHours(1));

    RepositoryStatus s = admin.requestFetch(RepoName.of("octo-org", "hello.world"));

    assertThat(s.dirty()).isTrue();
    assertThat(s.dirtySince()).contains(clock.instant());
    assertThat(s.lastRequestedFetchAt()).contains(clock.instant());
    assertThat(syncState(id).get("fetch_request_seq")).isEqualTo(seq + 1);
    assertThat(instant(syncState(id).get("dirty_since"))).isEqualTo(clock.instant());
  }

  @Test
  void aFetchRequestForAnUntrackedRepositoryIsNotFoundAndTracksNothing() {
    assertThatThrownBy(() -> admin.requestFetch(HELLO)).isInstanceOf(NotFoundException.class);
    assertThat(count("select count(*) from repository")).isZero();
  }

  // --- pull requests ----------------------------------------------------------------------------

  private long seedPull() {
    long id = admin.configureBackfill(HELLO, BackfillMode.OPEN_ONLY, 0).repositoryId();
    jdbi.useHandle(
        h -> {
          h.execute(
              """
              insert into open_pr (repository_id, number, github_id, title, draft, head_sha, base_sha,
                                   base_ref, updated_at, freshness, snapshot_head_sha,
                                   snapshot_base_sha, snapshot_indexed_at, first_seen_at, last_seen_at)
              values (?, 7, 7007, 'Add widgets', true, 'head2', 'base1', 'main',
                      '2025-12-31T10:00:00Z', 'stale_head_changed', 'head1', 'base1',
                      '2025-12-31T09:00:00Z', '2025-12-30T00:00:00Z', '2025-12-31T11:00:00Z')
              """,
              id);
          h.execute(
              """
              insert into pr_snapshot (repository_id, number, github_id, title, state, merged, draft,
                                       head_sha, head_ref, base_sha, base_ref, merge_base_sha,
                                       files_truncated, changed_files, additions, deletions,
                                       updated_at, indexed_at)
              values (?, 7, 7007, 'Add widgets', 'open', false, true, 'head1', 'feature', 'base1',
                      'main', null, false, 3, 12, 4, '2025-12-31T08:00:00Z', '2025-12-31T09:00:00Z')
              """,
              id);
          h.execute(
              """
              insert into snapshot_file (repository_id, number, ordinal, path, previous_path, status,
                                         additions, deletions, changes, patch)
              values (?, 7, 0, 'src/Widget.java', null, 'modified', 10, 4, 14,
                      '@@ -1,4 +1,6 @@ class Widget\n-a\n+b\n@@ -20,0 +22,8 @@\n+c'),
                     (?, 7, 1, 'docs/new.md', 'docs/old.md', 'renamed', 2, 0, 2, '@@ -1 +1,3 @@\n+x'),
                     (?, 7, 2, 'logo.png', null, 'added', 0, 0, 0, null)
              """,
              id,
              id,
              id);
          h.execute(
              """
              insert into snapshot_hunk (repository_id, number, file_ordinal, ordinal, old_start,
                                         old_count, new_start, new_count, section)
              values (?, 7, 0, 0, 1, 4, 1, 6, 'class Widget'), (?, 7, 0, 1, 20, 0, 22, 8, null),
                     (?, 7, 1, 0, 1, 1, 1, 3, null)
              """,
              id,
              id,
              id);
        });
    return id;
  }

  @Test
  void pullStatusShowsInventorySnapshotAndPendingHint() {
    long id = seedPull();
    jdbi.useHandle(
        h ->
            h.execute(
                "insert into refresh_hint (repository_id, number, first_seen_at, last_seen_at,"
                    + " count, last_action) values (?, 7, '2026-01-01T00:00:00Z',"
                    + " '2026-01-01T00:00:05Z', 2, 'synchronize')",
                id));

    PullStatus s = status.pullStatus(RepoName.of("OCTO-ORG", "hello.world"), 7);

    assertThat(s.repositoryId()).isEqualTo(id);
    assertThat(s.fullName()).isEqualTo("Octo-Org/Hello.World");
    assertThat(s.number()).isEqualTo(7);
    assertThat(s.inventory())
        .contains(
            new PullStatus.Inventory(
                "stale_head_changed",
                Optional.of("Add widgets"),
                true,
                "head2",
                "base1",
                "main",
                Instant.parse("2025-12-31T10:00:00Z"),
                Optional.of("head1"),
                Optional.of("base1"),
                Optional.of(Instant.parse("2025-12-31T09:00:00Z")),
                Optional.empty(),
                Instant.parse("2025-12-30T00:00:00Z"),
                Instant.parse("2025-12-31T11:00:00Z")));
    assertThat(s.snapshot())
        .contains(
            new PullStatus.SnapshotSummary(
                "open",
                false,
                true,
                "head1",
                "base1",
                "main",
                false,
                3,
                12,
                4,
                3,
                3,
                Instant.parse("2025-12-31T09:00:00Z")));
    assertThat(s.pendingRefresh())
        .contains(
            new PullStatus.PendingRefresh(
                Instant.parse("2026-01-01T00:00:00Z"),
                Instant.parse("2026-01-01T00:00:05Z"),
                2,
                Optional.of("synchronize"),
                0,
                Optional.empty()));
  }

  @Test
  void aPullWithoutSnapshotIsMissingAndUnknownPullsAreNotFound() {
    long id = admin.configureBackfill(HELLO, BackfillMode.OPEN_ONLY, 0).repositoryId();
    jdbi.useHandle(
        h ->
            h.execute(
                "insert into open_pr (repository_id, number, head_sha, base_sha, base_ref,"
                    + " updated_at) values (?, 9, 'h', 'b', 'main', now())",
                id));

    assertThat(status.pullStatus(HELLO, 9).inventory().orElseThrow().freshness())
        .isEqualTo("missing");
    assertThat(status.pullStatus(HELLO, 9).snapshot()).isEmpty();
    assertThatThrownBy(() -> status.pullSnapshot(HELLO, 9))
        .isInstanceOf(NotFoundException.class)
        .hasMessage("pull request Octo-Org/Hello.World#9 has no snapshot");
    assertThatThrownBy(() -> status.pullFiles(HELLO, 9)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> status.pullStatus(HELLO, 10))
        .isInstanceOf(NotFoundException.class)
        .hasMessage("pull request Octo-Org/Hello.World#10 is not known to changesync");
    assertThatThrownBy(() -> status.pullStatus(RepoName.of("nobody", "nothing"), 9))
        .isInstanceOf(NotFoundException.class)
        .hasMessage("repository nobody/nothing is not tracked");
    assertThatThrownBy(() -> status.pullStatus(HELLO, 0)).isInstanceOf(BadInputException.class);
  }

  @Test
  void snapshotAndFilesWithHunks() throws Exception {
    long id = seedPull();

    PullSnapshot snapshot = status.pullSnapshot(HELLO, 7);
    assertThat(snapshot)
        .isEqualTo(
            new PullSnapshot(
                id,
                "Octo-Org/Hello.World",
                7,
                Optional.of("Add widgets"),
                "open",
                false,
                true,
                "head1",
                Optional.of("feature"),
                "base1",
                "main",
                Optional.empty(),
                false,
                3,
                12,
                4,
                Optional.of(Instant.parse("2025-12-31T08:00:00Z")),
                Instant.parse("2025-12-31T09:00:00Z")));

    PullFiles files = status.pullFiles(HELLO, 7);
    assertThat(files.headSha()).isEqualTo("head1");
    assertThat(files.baseSha()).isEqualTo("base1");
    assertThat(files.changedFiles()).isEqualTo(3);
    assertThat(files.filesTruncated()).isFalse();
    assertThat(files.files())
        .containsExactly(
            new PullFiles.File(
                "src/Widget.java",
                Optional.empty(),
                "modified",
                10,
                4,
                14,
                Optional.of("@@ -1,4 +1,6 @@ class Widget\n-a\n+b\n@@ -20,0 +22,8 @@\n+c"),
                List.of(new PullFiles.Hunk(1, 4, 1, 6), new PullFiles.Hunk(20, 0, 22, 8))),
            new PullFiles.File(
                "docs/new.md",
                Optional.of("docs/old.md"),
                "renamed",
                2,
                0,
                2,
                Optional.of("@@ -1 +1,3 @@\n+x"),
                List.of(new PullFiles.Hunk(1, 1, 1, 3))),
            new PullFiles.File(
                "logo.png", Optional.empty(), "added", 0, 0, 0, Optional.empty(), List.of()));

    JsonNode json = ApiJson.newMapper().valueToTree(files);
    assertThat(json.get("files").get(1).get("previous_path").asText()).isEqualTo("docs/old.md");
    assertThat(json.get("files").get(2).get("patch").isNull()).isTrue();
    assertThat(json.get("files").get(0).get("hunks").get(1).get("new_start").asInt()).isEqualTo(22);
    JsonNode snapshotJson = ApiJson.newMapper().valueToTree(snapshot);
    assertThat(snapshotJson.has("merge_base_sha")).isTrue();
    assertThat(snapshotJson.get("indexed_at").asText()).isEqualTo("2025-12-31T09:00:00Z");
  }

  @Test
  void aClosedPullKeepsItsSnapshot() {
    long id = seedPull();
    jdbi.useHandle(h -> h.execute("delete from open_pr where repository_id = ?", id));

    PullStatus s = status.pullStatus(HELLO, 7);

    assertThat(s.inventory()).isEmpty();
    assertThat(s.snapshot()).isPresent();
    assertThat(status.pullFiles(HELLO, 7).files()).hasSize(3);
  }
}
