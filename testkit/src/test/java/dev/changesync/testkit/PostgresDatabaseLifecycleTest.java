package dev.changesync.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;

/** Runs small test classes through JUnit and checks what they leave on the server. */
class PostgresDatabaseLifecycleTest {

  @Test
  void theDatabaseLivesAsLongAsItsClassAndItsNestedClasses() throws SQLException {
    LifecycleFixture.seen.clear();

    EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(LifecycleFixture.class))
        .execute()
        .testEvents()
        .assertStatistics(stats -> stats.started(2).succeeded(2));

    assertThat(LifecycleFixture.seen).hasSize(2);
    String name = LifecycleFixture.seen.get(0);
    assertThat(LifecycleFixture.seen).containsOnly(name);
    assertThat(TestServer.get().exists(name)).as("database %s after afterAll", name).isFalse();
  }

  @Test
  void registeringOnAnInstanceFieldFailsSayingWhatToDo() {
    EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(InstanceFieldFixture.class))
        .execute()
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            finishedWithFailure(
                instanceOf(ExtensionConfigurationException.class),
                message(m -> m.contains("static field"))));
  }

  @Test
  void startAndCloseWorkWithoutJUnit() throws SQLException {
    PostgresDatabase db = PostgresDatabase.migratedWith(Fixtures::createMarker).start();
    String name = db.databaseName();
    assertThat(TestServer.get().exists(name)).isTrue();
    assertThat(
            PostgresDatabaseTest.queryOne(db.dataSource(), "select count(*) from template_marker"))
        .isEqualTo("1");

    db.close();
    db.close();

    assertThat(TestServer.get().exists(name)).isFalse();
  }

  static class LifecycleFixture {

    static final List<String> seen = new CopyOnWriteArrayList<>();

    @RegisterExtension
    static final PostgresDatabase db = PostgresDatabase.migratedWith(Fixtures::createMarker);

    @Test
    void outer() throws SQLException {
      seen.add(db.databaseName());
      assertThat(TestServer.get().exists(db.databaseName())).isTrue();
    }

    @Nested
    class Inner {
      @Test
      void inner() throws SQLException {
        seen.add(db.databaseName());
        assertThat(TestServer.get().exists(db.databaseName())).isTrue();
      }
    }
  }

  static class InstanceFieldFixture {

    @RegisterExtension final PostgresDatabase db = PostgresDatabase.empty();

    @Test
    void usesTheDatabase() {
      db.jdbcUrl();
    }
  }
}
