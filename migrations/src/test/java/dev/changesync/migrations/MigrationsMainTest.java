package dev.changesync.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.testkit.PostgresDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class MigrationsMainTest {

  @RegisterExtension static final PostgresDatabase db = PostgresDatabase.empty();

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @Test
  void appliesTheMigrationsOnceFromTheEnvironment() {
    Map<String, String> env = Map.of(MigrationsMain.URL_VARIABLE, db.jdbcUrl());

    assertThat(run(List.of(), env)).isZero();
    assertThat(out())
        .isEqualTo("changesync schema migrated from an empty database to version 4 (applied 1, 2, 4)\n");

    out.reset();
    assertThat(run(List.of(db.jdbcUrl()), Map.of())).isZero();
    assertThat(out()).isEqualTo("changesync schema is up to date (version 4)\n");
    assertThat(Migrations.isCurrent(db.dataSource())).isTrue();
  }

  @Test
  void withoutADatabaseItIsAUsageError() {
    assertThat(run(List.of(), Map.of(MigrationsMain.URL_VARIABLE, " "))).isEqualTo(2);
    assertThat(err()).contains("CHANGESYNC_DATABASE_URL");
  }

  @Test
  void aNonPostgresUrlIsAUsageErrorThatDoesNotEchoIt() {
    assertThat(run(List.of("jdbc:mysql://h/db?password=hunter2"), Map.of())).isEqualTo(2);
    assertThat(err()).contains("must be a PostgreSQL JDBC URL").doesNotContain("hunter2");
  }

  @Test
  void anUnreachableDatabaseFails() {
    assertThat(run(List.of("jdbc:postgresql://127.0.0.1:1/nowhere?connectTimeout=2"), Map.of()))
        .isEqualTo(1);
    assertThat(err()).startsWith("migration failed: ");
  }

  @Test
  void helpGoesToStandardOutput() {
    assertThat(run(List.of("--help"), Map.of())).isZero();
    assertThat(out()).startsWith("usage: MigrationsMain [JDBC_URL]");
  }

  private int run(List<String> args, Map<String, String> env) {
    return MigrationsMain.run(
        args,
        env,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }
}
