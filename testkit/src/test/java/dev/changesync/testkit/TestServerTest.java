package dev.changesync.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TestServerTest {

  @Test
  void theUrlVariableWins() {
    var located =
        TestServer.locate(
            Map.of(
                TestServer.URL_VARIABLE, "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres"),
            () -> {
              throw new AssertionError("Docker must not be probed when the URL is set");
            });

    assertThat(located)
        .hasValueSatisfying(a -> assertThat(a.maintenanceDatabase()).isEqualTo("postgres"));
  }

  @Test
  void dockerIsTheFallback() {
    assertThat(TestServer.locate(Map.of(), () -> true)).isEmpty();
  }

  @Test
  void withNeitherItFailsSayingHowToProvideAServer() {
    assertThatThrownBy(() -> TestServer.locate(Map.of(TestServer.URL_VARIABLE, " "), () -> false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("CHANGESYNC_TEST_DATABASE_URL")
        .hasMessageContaining("bash .ci/run")
        .hasMessageContaining("Docker");
  }

  @Test
  void aBadUrlIsNamedByItsVariable() {
    assertThatThrownBy(
            () ->
                TestServer.locate(
                    Map.of(TestServer.URL_VARIABLE, "postgres://localhost/x"), () -> false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("CHANGESYNC_TEST_DATABASE_URL is not a PostgreSQL JDBC URL");
  }

  @Test
  void theEmbeddedServerServesTemplatedDatabases() throws Exception {
    // What a JVM without CHANGESYNC_TEST_DATABASE_URL uses; started here whatever the variable.
    TestServer server = TestServer.startEmbedded().orElseThrow();
    try {
      assertThat(server.embedded()).isTrue();
      String name =
          server.createDatabase(
              "embedded-test",
              ds -> {
                try (var c = ds.getConnection();
                    var s = c.createStatement()) {
                  s.execute("create table seeded (v int); insert into seeded values (42)");
                }
              });
      try (var c = java.sql.DriverManager.getConnection(server.address().urlFor(name));
          var s = c.createStatement();
          var rs = s.executeQuery("select v from seeded")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).isEqualTo(42);
      }
    } finally {
      server.cleanUp();
    }
  }
}
