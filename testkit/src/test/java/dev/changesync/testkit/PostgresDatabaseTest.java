package dev.changesync.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresDatabaseTest {

  @RegisterExtension
  static final PostgresDatabase first = PostgresDatabase.migratedWith(Fixtures::createMarker);

  @RegisterExtension
  static final PostgresDatabase second =
      PostgresDatabase.migratedWith(Fixtures::createMarker).withTimeZone("Pacific/Chatham");

  @RegisterExtension static final PostgresDatabase empty = PostgresDatabase.empty();

  @Test
  void eachDatabaseIsItsOwnAndWritable() throws SQLException {
    assertThat(first.databaseName())
        .startsWith("changesync_test_")
        .isNotEqualTo(second.databaseName());

    execute(first.dataSource(), "insert into template_marker (note) values ('first only')");
    execute(second.dataSource(), "insert into template_marker (note) values ('second only')");

    assertThat(notes(first.dataSource())).containsExactly("from the template", "first only");
    assertThat(notes(second.dataSource())).containsExactly("from the template", "second only");
    assertThat(queryOne(first.dataSource(), "select current_database()"))
        .isEqualTo(first.databaseName());
  }

  @Test
  void clonesShowTheTemplateWhichIsBuiltOncePerInitializer() throws SQLException {
    assertThat(notes(first.dataSource())).contains("from the template");
    assertThat(notes(second.dataSource())).contains("from the template");
    assertThat(Fixtures.markerTemplateBuilds).hasValue(1);
    assertThat(PostgresDatabase.templateIdOf(Fixtures::createMarker))
        .isEqualTo(PostgresDatabase.templateIdOf(Fixtures::createMarker))
        .startsWith("dev.changesync.testkit.Fixtures::createMarker(");
  }

  @Test
  void anEmptyDatabaseHasNoTables() throws SQLException {
    assertThat(queryOne(empty.dataSource(), "select to_regclass('template_marker') is null"))
        .isEqualTo("t");
    execute(empty.dataSource(), "create table if not exists scratch (id int)");
  }

  @Test
  void theTimeZoneOptionReachesSessionsAndTheDatabase() throws SQLException {
    assertThat(queryOne(second.dataSource(), "show timezone")).isEqualTo("Pacific/Chatham");
    // 2026-01-01T00:00Z is 13:00 in Chatham (+13:45 in its summer); rendered in the session zone.
    assertThat(queryOne(second.dataSource(), "select timestamptz '2026-01-01 00:00:00+00'::text"))
        .isEqualTo("2026-01-01 13:45:00+13:45");
    assertThat(
            queryOne(
                second.dataSource(),
                "select array_to_string(setconfig, ',') from pg_db_role_setting where setdatabase ="
                    + " (select oid from pg_database where datname = current_database())"))
        .isEqualTo("TimeZone=Pacific/Chatham");
    assertThat(second.timeZone())
        .hasValueSatisfying(z -> assertThat(z.getId()).isEqualTo("Pacific/Chatham"));

    assertThat(queryOne(first.dataSource(), "show timezone")).isNotEqualTo("Pacific/Chatham");
    assertThat(first.timeZone()).isEmpty();
  }

  @Test
  void theJdbcUrlStandsAloneForAChildProcess() throws SQLException {
    assertThat(first.jdbcUrl())
        .contains("/" + first.databaseName() + "?")
        .contains("user=" + first.user());

    try (Connection c = DriverManager.getConnection(first.jdbcUrl());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select current_database(), current_user")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo(first.databaseName());
      assertThat(rs.getString(2)).isEqualTo(first.user());
    }
  }

  @Test
  void newDataSourceGivesAsManyConnectionsAsAskedFor() throws SQLException {
    List<Connection> held = new ArrayList<>();
    try (var pool = first.newDataSource(8)) {
      for (int i = 0; i < 8; i++) {
        held.add(pool.getConnection());
      }
      assertThat(held).hasSize(8);
    } finally {
      for (Connection c : held) {
        c.close();
      }
    }
    assertThatThrownBy(() -> first.newDataSource(0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void truncateAllTablesEmptiesTablesAndRestartsIdentities() throws SQLException {
    execute(
        empty.dataSource(),
        "create table if not exists counted (id bigint generated always as identity, v text)");
    execute(empty.dataSource(), "insert into counted (v) values ('a'), ('b')");

    empty.truncateAllTables();

    assertThat(queryOne(empty.dataSource(), "select count(*) from counted")).isEqualTo("0");
    execute(empty.dataSource(), "insert into counted (v) values ('c')");
    assertThat(queryOne(empty.dataSource(), "select id from counted")).isEqualTo("1");
  }

  @Test
  void aTimeZoneMustBeARegion() {
    assertThatThrownBy(() -> PostgresDatabase.empty().withTimeZone("+05:00"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an offset");
    assertThatThrownBy(() -> first.withTimeZone("Europe/Paris"))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aCapturingLambdaNeedsAnExplicitTemplateId() {
    String table = "t";
    assertThatThrownBy(
            () ->
                PostgresDatabase.migratedWith(
                    ds -> execute(ds, "create table " + table + " (x int)")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("initializedWith");
  }

  static void execute(DataSource dataSource, String sql) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  static String queryOne(DataSource dataSource, String sql) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      assertThat(rs.next()).as("a row from %s", sql).isTrue();
      return rs.getString(1);
    }
  }

  private static List<String> notes(DataSource dataSource) throws SQLException {
    List<String> notes = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select note from template_marker order by id")) {
      while (rs.next()) {
        notes.add(rs.getString(1));
      }
    }
    return notes;
  }
}
