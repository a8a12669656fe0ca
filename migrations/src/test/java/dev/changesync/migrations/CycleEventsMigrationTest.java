package dev.changesync.migrations;

import static dev.changesync.migrations.MigrationsTest.execute;
import static dev.changesync.migrations.MigrationsTest.query;
import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.testkit.PostgresDatabase;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * Version 3 (one audit row per holding) on a database that version 2 wrote: its events read back
 * unchanged, once each, and what is written afterwards keeps ids and tokens increasing.
 */
class CycleEventsMigrationTest {

  @Test
  void keepsTheEventsVersion2WroteAndContinuesTheirIds() throws SQLException {
    try (PostgresDatabase db = PostgresDatabase.empty().start()) {
      DataSource ds = db.dataSource();
      Flyway.configure().dataSource(ds).locations(Migrations.LOCATION).target("2").load().migrate();
      // Version 2's writes: one event row per claim and per release, ids from their own identity.
      execute(ds, "select setval('lease_token_seq', 41)");
      execute(
          ds,
          "insert into lease (resource, lane, owner_id, worker_name, token, claimed_at,"
              + " heartbeat_at, expires_at, stale_at, lease_for_us, heartbeat_every_us,"
              + " stale_after_us) values ('repo:1', 'fetch', 'w:1', 'w', 41, now(), now(),"
              + " now() + interval '15 minutes', now() + interval '30 seconds', 900000000,"
              + " 10000000, 30000000), ('repo:2', 'fetch', null, null, 40, null, null, null,"
              + " null, null, null, null)");
      for (int i = 0; i < 60; i++) {
        execute(
            ds,
            "insert into lease_event (at, resource, lane, kind, owner_id, token)"
                + " values (now(), 'repo:2', 'fetch', 'claimed', 'w:1', 40),"
                + " (now(), 'repo:2', 'fetch', 'released', 'w:1', 40)");
      }
      execute(
          ds,
          "insert into lease_event (at, resource, lane, kind, owner_id, token)"
              + " values (now(), 'repo:1', 'fetch', 'claimed', 'w:1', 41)");
      String before =
          String.join(
              "\n",
              query(
                  ds,
                  "select id || ' ' || kind || ' ' || resource || ' ' || token"
                      + " from lease_event order by id"));

      Migrations.migrate(ds);

      assertThat(
              String.join(
                  "\n",
                  query(
                      ds,
                      "select id || ' ' || kind || ' ' || resource || ' ' || token"
                          + " from lease_event_log order by id")))
          .as("every version 2 event once, the held lease's claim not repeated")
          .isEqualTo(before);
      long next = Long.parseLong(query(ds, "select nextval('lease_token_seq')").get(0));
      assertThat(next).isGreaterThan(121).isGreaterThan(41);
      execute(
          ds,
          "insert into lease_event (at, resource, lane, kind, owner_id, token)"
              + " values (now(), 'repo:1', 'fetch', 'released', 'w:1', 41)");
      assertThat(query(ds, "select max(id) from lease_event").get(0))
          .isEqualTo(String.valueOf(next + 1));
      assertThat(query(ds, "select claim_logged from lease order by resource"))
          .containsExactly("t", "t");
      assertThat(
              query(
                  ds,
                  "select c.relname || ' ' || am.amname from pg_index i"
                      + " join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam"
                      + " where i.indrelid = 'lease_event'::regclass order by c.relname"))
          .containsExactly("lease_event_at brin", "lease_event_id brin");
    }
  }

  @Test
  void theLogExpandsAHoldingIntoItsClaimAndItsEnd() throws SQLException {
    try (PostgresDatabase db = PostgresDatabase.empty().start()) {
      DataSource ds = db.dataSource();
      Migrations.migrate(ds);
      // A free claim (token 7, no row), released: one row carrying the claim.
      execute(
          ds,
          "insert into lease_event (id, at, resource, lane, kind, owner_id, token, held_since)"
              + " values (8, '2026-01-01 00:00:05Z', 'repo:1', 'fetch', 'released', 'w:1', 7,"
              + " '2026-01-01 00:00:01Z')");
      // A free claim (token 9) ended by a reclaim (token 10): the reclaim row carries it.
      execute(
          ds,
          "insert into lease_event (id, at, resource, lane, kind, owner_id, token,"
              + " previous_owner_id, previous_token, held_since) values (10,"
              + " '2026-01-01 00:01:00Z', 'repo:1', 'fetch', 'reclaimed', 'w:2', 10, 'w:1', 9,"
              + " '2026-01-01 00:00:10Z')");
      // Held now by a free claim (token 11) of another lease.
      execute(
          ds,
          "insert into lease (resource, lane, owner_id, worker_name, token, claimed_at,"
              + " heartbeat_at, expires_at, stale_at, lease_for_us, heartbeat_every_us,"
              + " stale_after_us) values ('repo:2', 'fetch', 'w:1', 'w', 11,"
              + " '2026-01-01 00:02:00Z', now(), now() + interval '15 minutes',"
              + " now() + interval '30 seconds', 900000000, 10000000, 30000000)");

      assertThat(
              query(
                  ds,
                  "select id || ' ' || kind || ' ' || owner_id || ' ' || token || ' '"
                      + " || to_char(at at time zone 'UTC', 'MI:SS') from lease_event_log"
                      + " order by id"))
          .containsExactly(
              "7 claimed w:1 7 00:01",
              "8 released w:1 7 00:05",
              "9 claimed w:1 9 00:10",
              "10 reclaimed w:2 10 01:00",
              "11 claimed w:1 11 02:00");
    }
  }
}
