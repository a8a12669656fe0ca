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
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

class MigrationsTest {

  /** Every schema version this build has, oldest first; the last is the one it migrates to. */
  static final List<String> ALL = List.of("1", "2", "3", "4", "5", "6", "7", "8");

  static final String LATEST = ALL.get(ALL.size() - 1);

  @Test
  void migratesAnEmptyDatabaseAndReRunningChangesNothing() {
    try (PostgresDatabase db = PostgresDatabase.empty().start()) {
      DataSource ds = db.dataSource();
      assertThat(Migrations.currentVersion(ds)).isEmpty();
      assertThat(Migrations.isCurrent(ds)).isFalse();

      MigrationResult first = Migrations.migrate(ds);

      assertThat(first.previousVersion()).isEmpty();
      assertThat(first.schemaVersion()).isEqualTo(LATEST);
      assertThat(first.appliedVersions()).containsExactlyElementsOf(ALL);
      assertThat(first.changed()).isTrue();

      MigrationResult again = Migrations.migrate(ds);

      assertThat(again.previousVersion()).contains(LATEST);
      assertThat(again.schemaVersion()).isEqualTo(LATEST);
      assertThat(again.appliedVersions()).isEmpty();
      assertThat(again.changed()).isFalse();

      Migrations.validate(ds);
      assertThat(Migrations.isCurrent(ds)).isTrue();
      assertThat(Migrations.currentVersion(ds)).contains(LATEST);
    }
  }

  @Test
  void upgradesAVersion1DatabaseKeepingItsLeases() throws SQLException {
    try (PostgresDatabase db = PostgresDatabase.empty().start()) {
      DataSource ds = db.dataSource();
      // What the first release of changesync left behind: schema version 1 and a held lease.
      Flyway.configure().dataSource(ds).locations(Migrations.LOCATION).target("1").load().migrate();
      execute(
          ds,
          "insert into lease (resource, lane, owner_id, worker_name, token, claimed_at,"
              + " heartbeat_at, expires_at, stale_at, lease_for_us, heartbeat_every_us,"
              + " stale_after_us) values ('repo:1', 'fetch', 'w:1', 'w', 41, now(), now(),"
              + " now() + interval '15 minutes', now() + interval '30 seconds', 900000000,"
              + " 10000000, 30000000)");
      assertThat(Migrations.isCurrent(ds)).isFalse();

      MigrationResult upgrade = Migrations.migrate(ds);

      assertThat(upgrade.previousVersion()).contains("1");
      assertThat(upgrade.appliedVersions()).containsExactlyElementsOf(ALL.subList(1, ALL.size()));
      assertThat(upgrade.schemaVersion()).isEqualTo(LATEST);
      assertThat(query(ds, "select owner_id || ' ' || token from lease"))
          .containsExactly("w:1 41");
      assertThat(query(ds, "select indexname from pg_indexes where tablename = 'lease'"))
          .containsExactly("lease_pkey");
      Migrations.validate(ds);
    }
  }

  @Test
  void validateRefusesAnUninitialisedDatabase() {
    try (PostgresDatabase db = PostgresDatabase.empty().start()) {
      assertThatThrownBy(() -> Migrations.validate(db.dataSource()))
          .isInstanceOf(MigrationException.class)
          .hasMessage(
              "database schema is not initialised (this changesync build needs version " + LATEST + "); "
                  + "run `changesync migrate` or start the server with migrations enabled");
    }
  }

  @Test
  void refusesASchemaMigratedByANewerBuild() {
    try (PostgresDatabase db = PostgresDatabase.empty().start()) {
      DataSource ds = db.dataSource();
      Migrations.migrate(ds);
      // What a newer changesync would have done: the same migrations and one more.
      Flyway.configure()
          .dataSource(ds)
          .locations(Migrations.LOCATION, "classpath:db/future")
          .load()
          .migrate();
      String expected =
          "database schema version 99 is newer than this changesync build supports (" + LATEST + "); "
              + "upgrade changesync";

      assertThatThrownBy(() -> Migrations.migrate(ds))
          .isInstanceOf(MigrationException.class)
          .hasMessage(expected);
      assertThatThrownBy(() -> Migrations.validate(ds))
          .isInstanceOf(MigrationException.class)
          .hasMessage(expected);
      assertThat(Migrations.isCurrent(ds)).isFalse();
      assertThat(Migrations.currentVersion(ds)).contains("99");
    }
  }

  @Test
  void refusesAHistoryRowFromTheFuture() throws SQLException {
    try (PostgresDatabase db = PostgresDatabase.empty().start()) {
      DataSource ds = db.dataSource();
      Migrations.migrate(ds);
      execute(
          ds,
          "insert into flyway_schema_history (installed_rank, version, description, type, script, "
              + "checksum, installed_by, execution_time, success) "
              + "values (1000, '70', 'later', 'SQL', 'V70__later.sql', 42, current_user, 1, true)");

      assertThatThrownBy(() -> Migrations.validate(ds))
          .isInstanceOf(MigrationException.class)
          .hasMessage(
              "database schema version 70 is newer than this changesync build supports (" + LATEST + "); "
                  + "upgrade changesync");
      assertThatThrownBy(() -> Migrations.migrate(ds)).isInstanceOf(MigrationException.class);
    }
  }

  @Test
  void refusesAnAppliedMigrationThatNoLongerMatches() throws SQLException {
    try (PostgresDatabase db = PostgresDatabase.empty().start()) {
      DataSource ds = db.dataSource();
      Migrations.migrate(ds);
      execute(ds, "update flyway_schema_history set checksum = checksum + 1 where version = '1'");

      assertThatThrownBy(() -> Migrations.validate(ds))
          .isInstanceOf(MigrationException.class)
          .hasMessageStartingWith(
              "database schema does not match this changesync build's migrations")
          .hasMessageContaining("checksum");
      assertThat(Migrations.isCurrent(ds)).isFalse();
      assertThatThrownBy(() -> Migrations.migrate(ds))
          .isInstanceOf(MigrationException.class)
          .hasMessageContaining("checksum");
    }
  }

  @Test
  void refusesAFailedMigration() throws SQLException {
    try (PostgresDatabase db = PostgresDatabase.empty().start()) {
      DataSource ds = db.dataSource();
      Migrations.migrate(ds);
      execute(ds, "update flyway_schema_history set success = false where version = '1'");

      assertThatThrownBy(() -> Migrations.validate(ds))
          .isInstanceOf(MigrationException.class)
          .hasMessageStartingWith(
              "database schema migration V1 schema (V1__schema.sql) is recorded as failed");
      assertThat(Migrations.isCurrent(ds)).isFalse();
    }
  }

  @Test
  void serversStartingTogetherMigrateOnce() throws Exception {
    try (PostgresDatabase db = PostgresDatabase.empty().start()) {
      DataSource ds = db.newDataSource(8);
      int parallel = 4;
      CyclicBarrier start = new CyclicBarrier(parallel);
      ExecutorService executor = Executors.newFixedThreadPool(parallel);
      try {
        Callable<MigrationResult> migrate =
            () -> {
              start.await(10, TimeUnit.SECONDS);
              return Migrations.migrate(ds);
            };
        List<Future<MigrationResult>> results =
            executor.invokeAll(List.of(migrate, migrate, migrate, migrate));
        int applied = 0;
        for (Future<MigrationResult> result : results) {
          MigrationResult r = result.get(60, TimeUnit.SECONDS);
          assertThat(r.schemaVersion()).isEqualTo(LATEST);
          applied += r.appliedVersions().size();
        }
        assertThat(applied).isEqualTo(ALL.size());
      } finally {
        executor.shutdownNow();
      }
      Migrations.validate(ds);
    }
  }

  static List<String> query(DataSource ds, String sql) throws SQLException {
    List<String> values = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        values.add(rs.getString(1));
      }
    }
    return values;
  }

  static void execute(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
