package dev.changesync.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The mode rule: a flag wins; then CHANGESYNC_SERVER_URL; then CHANGESYNC_DATABASE_URL. */
class TargetTest {

  private static final String DB = "jdbc:postgresql://db:5432/changesync";
  private static final Map<String, String> BOTH =
      Map.of("CHANGESYNC_SERVER_URL", "http://env:9000/", "CHANGESYNC_DATABASE_URL", DB + "2");

  @Test
  void withNothingItIsTheLocalServer() {
    assertThat(Target.choose(null, null, Map.of()))
        .isEqualTo(new Target.Server(URI.create("http://localhost:8080")));
  }

  @Test
  void flagsWinOverTheEnvironment() {
    assertThat(Target.choose("https://flag:1/prefix/", null, BOTH))
        .isEqualTo(new Target.Server(URI.create("https://flag:1/prefix")));
    assertThat(Target.choose(null, DB, BOTH)).isEqualTo(new Target.Database(DB));
  }

  @Test
  void theServerVariableWinsOverTheDatabaseVariable() {
    assertThat(Target.choose(null, null, BOTH))
        .isEqualTo(new Target.Server(URI.create("http://env:9000")));
  }

  @Test
  void theDatabaseVariableAloneMeansTheDatabase() {
    assertThat(Target.choose(null, null, Map.of("CHANGESYNC_DATABASE_URL", DB)))
        .isEqualTo(new Target.Database(DB));
    assertThat(
            Target.choose(
                null, null, Map.of("CHANGESYNC_SERVER_URL", " ", "CHANGESYNC_DATABASE_URL", DB)))
        .as("blank counts as unset")
        .isEqualTo(new Target.Database(DB));
  }

  @Test
  void malformedUrlsNameWhereTheyCameFrom() {
    assertThatThrownBy(() -> Target.choose("ftp://x", null, Map.of()))
        .isInstanceOfSatisfying(
            Target.InvalidTarget.class, e -> assertThat(e.fromFlag()).isTrue())
        .hasMessageStartingWith("--server: 'ftp://x'");
    assertThatThrownBy(
            () -> Target.choose(null, null, Map.of("CHANGESYNC_SERVER_URL", "http://h/?q")))
        .isInstanceOfSatisfying(
            Target.InvalidTarget.class, e -> assertThat(e.fromFlag()).isFalse())
        .hasMessageStartingWith("CHANGESYNC_SERVER_URL: ");
  }

  @Test
  void aPasswordInABadJdbcUrlIsNotEchoed() {
    assertThatThrownBy(() -> Target.choose(null, "mysql://u:secret@h/db?password=secret", Map.of()))
        .hasMessageNotContaining("secret");
    assertThatThrownBy(() -> Target.choose(null, "postgresql://u:secret@/db?password=secret", Map.of()))
        .hasMessageNotContaining("secret");
  }

  @Test
  void aPostgresUrlIsTakenAsItsJdbcUrl() {
    assertThat(Target.choose(null, "postgres://u:s%40cret@db:5433/cs", Map.of()))
        .isEqualTo(new Target.Database("jdbc:postgresql://db:5433/cs?user=u&password=s%40cret"));
  }

  @Test
  void aDataDirComesAfterTheDatabaseUrl() {
    assertThat(Target.choose(null, null, "/d", Map.of()))
        .isEqualTo(new Target.DataDir(java.nio.file.Path.of("/d")));
    assertThat(Target.choose(null, null, Map.of("CHANGESYNC_DATA_DIR", "/d")))
        .isEqualTo(new Target.DataDir(java.nio.file.Path.of("/d")));
    assertThat(
            Target.choose(
                null, null, Map.of("CHANGESYNC_DATA_DIR", "/d", "CHANGESYNC_DATABASE_URL", DB)))
        .isEqualTo(new Target.Database(DB));
    assertThat(
            Target.database(
                null, null, null, Map.of("CHANGESYNC_DATA_DIR", "/d", "CHANGESYNC_SERVER_URL", "http://h")))
        .isEqualTo(new Target.DataDir(java.nio.file.Path.of("/d")));
    assertThatThrownBy(() -> Target.choose(null, DB, "/d", Map.of()))
        .hasMessageContaining("alternatives");
  }
}
