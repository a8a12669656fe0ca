package dev.changesync.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.testkit.PostgresDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

/** The constraints and indexes of the schema that the rest of changesync relies on. */
class SchemaTest {

  @RegisterExtension
  static final PostgresDatabase db =
      PostgresDatabase.migratedWith(Migrations::migrate).withTimeZone("Pacific/Chatham");

  private static final String CHECK_VIOLATION = "23514";
  private static final String UNIQUE_VIOLATION = "23505";
  private static final String FOREIGN_KEY_VIOLATION = "23503";

  @BeforeEach
  void emptyTables() throws SQLException {
    db.truncateAllTables();
  }

  @Test
  void hasTheWholeDataModel() throws SQLException {
    assertThat(
            column(
                "select tablename from pg_tables where schemaname = 'public' order by tablename"))
        .containsExactly(
            "flyway_schema_history",
            "github_credential_rate_limit",
            "github_etag",
            "github_installation",
            "lease",
            "lease_event",
            "open_pr",
            "pr_snapshot",
            "refresh_hint",
            "repository",
            "repository_sync_state",
            "snapshot_file",
            "snapshot_hunk",
            "webhook_delivery",
            "worker");
    assertThat(
            column(
                "select sequencename from pg_sequences where schemaname = 'public' "
                    + "and sequencename = 'lease_token_seq'"))
        .containsExactly("lease_token_seq");
    assertThat(Migrations.isCurrent(db.dataSource())).isTrue();
  }

  @Test
  void leaseRowsAreUpdatedInPlace() throws SQLException {
    // Claims, heartbeats and releases change the holder columns of a lease row. An index on any
    // of them (or a partial index naming one) would make every such update a non-HOT update that
    // inserts into every index of the table; the primary key is the only index they may have.
    assertThat(column("select indexname from pg_indexes where tablename = 'lease'"))
        .containsExactly("lease_pkey");
    assertThat(
            column(
                "select unnest(reloptions) from pg_class where oid = 'lease'::regclass"))
        .containsExactly("fillfactor=70");
  }

  @Test
  void aLeaseIsEitherFreeOrFullyOwned() throws SQLException {
    execute("insert into lease (resource, lane) values ('repo:1', 'fetch')");
    execute(
        """
        insert into lease (resource, lane, owner_id, worker_name, token, claimed_at, heartbeat_at, expires_at,
                           stale_at, lease_for_us, heartbeat_every_us, stale_after_us)
        values ('repo:1', 'backfill', 'w1:a', 'w1', nextval('lease_token_seq'), now(), now(),
                now() + interval '15 minutes', now() + interval '30 seconds', 900000000, 10000000, 30000000)
        """);

    assertViolates(
        CHECK_VIOLATION,
        "lease_owner_fields",
        () ->
            execute(
                "insert into lease (resource, lane, owner_id, worker_name) values ('repo:1',"
                    + " 'refresh', 'w1:a', 'w1')"));
    assertViolates(
        CHECK_VIOLATION,
        "lease_owner_fields",
        () -> execute("update lease set owner_id = null where lane = 'backfill'"));
    assertViolates(
        CHECK_VIOLATION,
        "lease_owner_fields",
        () -> execute("update lease set heartbeat_every_us = 0 where lane = 'backfill'"));
    assertViolates(
        CHECK_VIOLATION,
        "lease_event_kind_check",
        () ->
            execute(
                "insert into lease_event (at, resource, lane, kind) values (now(), 'repo:1',"
                    + " 'fetch', 'stolen')"));
  }

  @Test
  void leaseTokensOnlyGrow() throws SQLException {
    long first = Long.parseLong(column("select nextval('lease_token_seq')").get(0));
    long second = Long.parseLong(column("select nextval('lease_token_seq')").get(0));
    assertThat(second).isGreaterThan(first);
  }

  @Test
  void repositoryNamesAreUniqueWhateverTheirCase() throws SQLException {
    execute("insert into repository (owner, name) values ('Octo-Org', 'Hello.World')");

    assertViolates(
        UNIQUE_VIOLATION,
        "repository_name_key",
        () -> execute("insert into repository (owner, name) values ('octo-org', 'HELLO.world')"));
    assertThat(
            column(
                "select full_name from repository where lower(owner) = lower('OCTO-ORG') "
                    + "and lower(name) = lower('hello.world')"))
        .containsExactly("Octo-Org/Hello.World");
  }

  @Test
  void repositoryNamesFollowGitHubsRules() {
    assertViolates(
        CHECK_VIOLATION,
        "repository_name_format",
        () -> execute("insert into repository (owner, name) values ('octo', '..')"));
    assertViolates(
        CHECK_VIOLATION,
        "repository_owner_format",
        () -> execute("insert into repository (owner, name) values ('octo/evil', 'x')"));
    assertViolates(
        CHECK_VIOLATION,
        "repository_owner_format",
        () ->
            execute("insert into repository (owner, name) values ('" + "o".repeat(40) + "', 'x')"));
  }

  @Test
  void enumsAreChecked() throws SQLException {
    long repo = repository("octo", "enums");
    assertViolates(
        CHECK_VIOLATION,
        "repository_sync_state_backfill_mode",
        () ->
            execute(
                "insert into repository_sync_state (repository_id, backfill_mode) values ("
                    + repo
                    + ", 'all')"));
    assertViolates(
        CHECK_VIOLATION,
        "open_pr_freshness_check",
        () ->
            execute(
                "insert into open_pr (repository_id, number, head_sha, base_sha, base_ref,"
                    + " updated_at, freshness) values ("
                    + repo
                    + ", 1, 'h', 'b', 'main', now(), 'fresh')"));
    assertViolates(
        CHECK_VIOLATION,
        "webhook_delivery_outcome_check",
        () ->
            execute(
                "insert into webhook_delivery (delivery_id, event, outcome) values ('d1', 'push',"
                    + " 'maybe')"));
  }

  @Test
  void syncStateInvariantsHold() throws SQLException {
    long repo = repository("octo", "state");
    execute("insert into repository_sync_state (repository_id) values (" + repo + ")");

    assertViolates(
        CHECK_VIOLATION,
        "repository_sync_state_dirty_since",
        () -> execute("update repository_sync_state set dirty = true"));
    assertViolates(
        CHECK_VIOLATION,
        "repository_sync_state_counts",
        () ->
            execute(
                "update repository_sync_state set open_pr_total = 1, open_pr_current = 1,"
                    + " open_pr_stale = 1"));
    assertViolates(
        CHECK_VIOLATION,
        "repository_sync_state_cursor",
        () -> execute("update repository_sync_state set open_pr_cursor_number = 7"));

    // "Clear dirty only if no newer fetch request arrived during the pass."
    execute(
        "update repository_sync_state set dirty = true, dirty_since = now(), fetch_request_seq ="
            + " fetch_request_seq + 1, open_pr_total = 3, open_pr_current = 1, open_pr_stale = 1");
    execute("update repository_sync_state set fetch_pass_seq = fetch_request_seq");
    execute(
        "update repository_sync_state set fetch_request_seq = fetch_request_seq + 1"); // arrives
    // mid-pass
    execute(
        "update repository_sync_state set dirty = false, dirty_since = null where fetch_request_seq"
            + " = fetch_pass_seq");
    assertThat(column("select dirty::text || ' ' || open_pr_missing from repository_sync_state"))
        .containsExactly("true 1");
  }

  @Test
  void aCurrentInventoryRowMatchesItsSnapshotHead() throws SQLException {
    long repo = repository("octo", "fresh");
    assertViolates(
        CHECK_VIOLATION,
        "open_pr_current_snapshot",
        () ->
            execute(
                "insert into open_pr (repository_id, number, head_sha, base_sha, base_ref,"
                    + " updated_at, freshness, snapshot_head_sha) values ("
                    + repo
                    + ", 1, 'new', 'b', 'main', now(), 'current', 'old')"));
  }

  @Test
  void deletingARepositoryTakesItsRowsAlong() throws SQLException {
    long repo = repository("octo", "doomed");
    execute("insert into repository_sync_state (repository_id) values (" + repo + ")");
    execute(
        "insert into open_pr (repository_id, number, head_sha, base_sha, base_ref, updated_at) "
            + "values ("
            + repo
            + ", 5, 'h', 'b', 'main', now())");
    execute(
        "insert into pr_snapshot (repository_id, number, state, head_sha, base_sha, base_ref,"
            + " changed_files, additions, deletions, indexed_at) values ("
            + repo
            + ", 5, 'open', 'h', 'b', 'main', 1, 2, 1, now())");
    execute(
        "insert into snapshot_file (repository_id, number, ordinal, path, status, additions,"
            + " deletions, changes, patch) values ("
            + repo
            + ", 5, 0, 'README.md', 'modified', 2, 1, 3, '@@ -1,2 +1,3 @@')");
    execute(
        "insert into snapshot_hunk (repository_id, number, file_ordinal, ordinal, old_start,"
            + " old_count, new_start, new_count) values ("
            + repo
            + ", 5, 0, 0, 1, 2, 1, 3)");
    execute(
        "insert into refresh_hint (repository_id, number, first_seen_at, last_seen_at) values ("
            + repo
            + ", 5, now(), now())");
    execute(
        "insert into webhook_delivery (delivery_id, event, repository_id, number, outcome) "
            + "values ('d-1', 'pull_request', "
            + repo
            + ", 5, 'hinted')");
    assertViolates(
        FOREIGN_KEY_VIOLATION,
        "snapshot_hunk_repository_id_number_file_ordinal_fkey",
        () ->
            execute(
                "insert into snapshot_hunk (repository_id, number, file_ordinal, ordinal,"
                    + " old_start, old_count, new_start, new_count) values ("
                    + repo
                    + ", 5, 9, 0, 1, 1, 1, 1)"));

    execute("delete from repository where id = " + repo);

    for (String table :
        List.of(
            "repository_sync_state",
            "open_pr",
            "pr_snapshot",
            "snapshot_file",
            "snapshot_hunk",
            "refresh_hint")) {
      assertThat(column("select count(*) from " + table)).as(table).containsExactly("0");
    }
    assertThat(column("select coalesce(repository_id::text, 'null') from webhook_delivery"))
        .containsExactly("null");
  }

  @Test
  void workPickingAndLookupsAreIndexDriven() throws SQLException {
    assertThat(
            plan(
                "select id from repository where lower(owner) = lower('Octo') and lower(name) ="
                    + " lower('Repo')"))
        .contains("repository_name_key");
    assertThat(
            plan(
                """
                select number from open_pr
                where repository_id = 1 and freshness is distinct from 'current'
                  and (updated_at, number) < (timestamptz '2026-01-01 00:00:00+00', 5)
                order by updated_at desc, number desc limit 10\
                """))
        .contains("open_pr_backfill_walk")
        .doesNotContain("Sort");
    assertThat(
            plan(
                """
                select repository_id from repository_sync_state where backfill_mode <> 'off'
                order by backfill_priority desc, last_backfill_started_at nulls first,
                         repository_id limit 1\
                """))
        .contains("repository_sync_state_backfill_order")
        .doesNotContain("Sort");
    assertThat(
            plan(
                """
                select repository_id from repository_sync_state
                where last_open_pr_scan_at is null
                   or (dirty and dirty_since < now() - interval '15 seconds')
                   or last_open_pr_scan_at < now() - interval '6 hours'\
                """))
        .contains(
            "repository_sync_state_never_scanned",
            "repository_sync_state_dirty",
            "repository_sync_state_scan_age");
    assertThat(
            plan(
                "select number from refresh_hint where repository_id = 1 order by first_seen_at"
                    + " limit 50"))
        .contains("refresh_hint_repository");
    assertThat(plan("select repository_id from refresh_hint order by first_seen_at limit 1"))
        .contains("refresh_hint_oldest");
    assertThat(
            plan(
                "select id from lease_event where id > 1000 and resource = 'repo:1'"
                    + " order by id desc limit 20"))
        .contains("lease_event_id");
    assertThat(plan("delete from lease_event where at < now() - interval '7 days'"))
        .contains("lease_event_at");
  }

  private static String plan(String query) throws SQLException {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("set enable_seqscan = off");
      StringBuilder plan = new StringBuilder();
      try (ResultSet rs = s.executeQuery("explain " + query)) {
        while (rs.next()) {
          plan.append(rs.getString(1)).append('\n');
        }
      } finally {
        s.execute("reset enable_seqscan");
      }
      return plan.toString();
    }
  }

  private static long repository(String owner, String name) throws SQLException {
    return Long.parseLong(
        column(
                "insert into repository (owner, name) values ('"
                    + owner
                    + "', '"
                    + name
                    + "') returning id")
            .get(0));
  }

  private static void execute(String sql) throws SQLException {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static List<String> column(String sql) throws SQLException {
    List<String> values = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        values.add(rs.getString(1));
      }
    }
    return values;
  }

  private static void assertViolates(
      String sqlState, String constraint, ThrowingCallable statement) {
    assertThatThrownBy(statement)
        .isInstanceOfSatisfying(
            PSQLException.class,
            e -> {
              assertThat(e.getSQLState()).as("SQLState of: %s", e.getMessage()).isEqualTo(sqlState);
              assertThat(e.getServerErrorMessage().getConstraint()).isEqualTo(constraint);
            });
  }
}
