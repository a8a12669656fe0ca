package dev.changesync.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static org.assertj.core.api.Assertions.assertThat;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The import rules of docs/architecture.md, over the main classes of every module (this module's
 * test classpath holds them all). Every rule is enforced in full; none is frozen.
 */
class ArchitectureTest {

  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    // Main classes only, from target/classes or from the modules' jars (as in `verify`); not
    // test classes nor test-jars (lease-core's contract suite).
    ImportOption mainOnly =
        location ->
            !location.contains("/test-classes/") && !location.contains("-tests.jar");
    main = new ClassFileImporter().withImportOption(mainOnly).importPackages("dev.changesync");
    // Every module is in (else a rule would hold for want of classes).
    for (String name :
        List.of(
            "dev.changesync.lease.LeaseRunner",
            "dev.changesync.migrations.Migrations",
            "dev.changesync.engine.lease.PostgresLeaseStore",
            "dev.changesync.engine.Changesync",
            "dev.changesync.http.ChangesyncServer",
            "dev.changesync.cli.ChangesyncCli")) {
      assertThat(main.contain(name)).as(name).isTrue();
    }
    assertThat(main.stream().map(c -> c.getSource().map(Object::toString).orElse("")))
        .noneMatch(source -> source.contains("test-classes") || source.contains("-tests.jar"));
  }

  @Test
  void leaseCoreIsPlainJavaWithGuavaAndSlf4jOnly() {
    classes()
        .that()
        .resideInAPackage("dev.changesync.lease..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(
            "java..", "dev.changesync.lease..", "com.google.common..", "org.slf4j..")
        .check(main);
  }

  @Test
  void migrationsKnowOnlyFlyway() {
    classes()
        .that()
        .resideInAPackage("dev.changesync.migrations..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(
            "java..", "javax.sql..", "dev.changesync.migrations..", "org.flywaydb..",
            "org.slf4j..")
        .check(main);
  }

  @Test
  void theEngineKnowsNoAdapterAndNoTestFixture() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.changesync.engine..", "dev.changesync.lease..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.changesync.http..", "dev.changesync.cli..", "dev.changesync.testkit..",
            "io.javalin..", "picocli..")
        .check(main);
  }

  @Test
  void adaptersContainNoSql() {
    // No JDBI, no JDBC statements, no pools: every query lives in the engine. (SQLException may
    // be read, to explain a start-up failure.)
    noClasses()
        .that()
        .resideInAnyPackage("dev.changesync.http..", "dev.changesync.cli..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("org.jdbi..", "com.zaxxer.hikari..", "org.postgresql..")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("java.sql.Connection")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("java.sql.PreparedStatement")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("java.sql.Statement")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("java.sql.ResultSet")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("javax.sql.DataSource")
        .check(main);
  }

  @Test
  void theServerKnowsNoCli() {
    noClasses()
        .that()
        .resideInAPackage("dev.changesync.http..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.changesync.cli..")
        .check(main);
  }

  @Test
  void databaseTimeAndPlumbingDependOnNoOtherEnginePackage() {
    noClasses()
        .that()
        .resideInAPackage("dev.changesync.engine.db..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.changesync.engine.lease..", "dev.changesync.engine.repo..",
            "dev.changesync.engine.github..", "dev.changesync.engine.sync..",
            "dev.changesync.engine.service..", "dev.changesync.engine.config..")
        .check(main);
  }

  @Test
  void theGitHubClientKnowsNothingOfLeasesLanesOrServices() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.changesync.engine.github..", "dev.changesync.engine.repo..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.changesync.engine.lease..", "dev.changesync.engine.sync..",
            "dev.changesync.engine.service..")
        .check(main);
  }

  @Test
  void lanesAndServicesAreSiblingsBelowTheFacade() {
    noClasses()
        .that()
        .resideInAPackage("dev.changesync.engine.sync..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.changesync.engine.service..")
        .check(main);
    noClasses()
        .that()
        .resideInAPackage("dev.changesync.engine.service..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.changesync.engine.sync..")
        .check(main);
    noClasses()
        .that()
        .resideInAnyPackage(
            "dev.changesync.engine.db..", "dev.changesync.engine.lease..",
            "dev.changesync.engine.repo..", "dev.changesync.engine.github..",
            "dev.changesync.engine.sync..", "dev.changesync.engine.service..",
            "dev.changesync.engine.config..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.changesync.engine")
        .check(main);
  }

  /**
   * Lanes, work picking, services and configuration see the lease store's interfaces only
   * (LeaseHolder, LeaseOperator, WorkLeases, WorkerLeases); the façade wires the class.
   */
  @Test
  void engineCodeDoesNotDependOnThePostgresLeaseStore() {
    noClasses()
        .that()
        .resideInAnyPackage(
            "dev.changesync.engine.sync..", "dev.changesync.engine.service..",
            "dev.changesync.engine.config..", "dev.changesync.engine.repo..",
            "dev.changesync.engine.github..", "dev.changesync.engine.db..")
        .should()
        .dependOnClassesThat()
        .haveFullyQualifiedName("dev.changesync.engine.lease.PostgresLeaseStore")
        .as("engine code does not depend on PostgresLeaseStore")
        .check(main);
  }

  /**
   * Configuration is a leaf: it knows no lane, no GitHub type, no lease store and no service;
   * each settings type (SyncSettings, GitHubSettings) builds itself from it.
   */
  @Test
  void configurationIsALeaf() {
    noClasses()
        .that()
        .resideInAPackage("dev.changesync.engine.config..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.changesync.engine.sync..", "dev.changesync.engine.github..",
            "dev.changesync.engine.lease..", "dev.changesync.engine.service..",
            "dev.changesync.engine.repo..")
        .as("configuration is a leaf")
        .check(main);
  }
}
