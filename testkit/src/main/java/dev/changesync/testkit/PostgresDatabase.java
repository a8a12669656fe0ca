package dev.changesync.testkit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh PostgreSQL database for one test class, cloned from a template that is initialised once
 * per JVM (typically by running the migrations), and dropped after the class.
 *
 * <pre>{@code
 * class LeaseStoreTest {
 *     @RegisterExtension
 *     static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);
 *
 *     @Test
 *     void somethingAboutLeases() throws Exception {
 *         Jdbi jdbi = Jdbi.create(db.dataSource());
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <p>The server is the one named by {@code CHANGESYNC_TEST_DATABASE_URL} (a maintenance database on
 * a server where the user may create databases), else a Testcontainers PostgreSQL 15 when Docker is
 * available; with neither, starting fails with a message saying how to provide one.
 *
 * <p>Register it on a {@code static} field: the database is created before all tests of the class
 * (and shared with its {@code @Nested} classes) and dropped, with {@code force}, after them. It
 * also works without JUnit: {@link #start()} and {@link #close()}.
 *
 * <p><b>Time zones.</b> {@link #withTimeZone(String)} sets the database's default time zone and
 * makes every connection of {@link #dataSource()} / {@link #newDataSource(int)} {@code set time
 * zone} to it. A connection opened elsewhere from {@link #jdbcUrl()} gets its session zone from
 * pgjdbc, which always sends the JVM's default zone when it connects (overriding the database's),
 * so start a child JVM with {@code -Duser.timezone=<zone>} to get the same session zone there.
 */
public final class PostgresDatabase
    implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AutoCloseable {

  private static final int DEFAULT_POOL_SIZE = 5;
  private static final int TRUNCATE_ATTEMPTS = 5;

  private final String templateId; // null for an empty database
  private final DatabaseInitializer initializer;
  private String timeZone;

  private final List<HikariDataSource> pools = new CopyOnWriteArrayList<>();
  private TestServer server;
  private String name;
  private HikariDataSource dataSource;
  private int users; // test classes (outer and @Nested) currently using the database

  private PostgresDatabase(String templateId, DatabaseInitializer initializer) {
    this.templateId = templateId;
    this.initializer = initializer;
  }

  /** An empty database: no template, no tables. */
  public static PostgresDatabase empty() {
    return new PostgresDatabase(null, null);
  }

  /**
   * A database cloned from a template prepared by {@code initializer}, which must be a method
   * reference (e.g. {@code Migrations::migrate}) or a lambda that captures nothing: the template is
   * shared by every test class in the JVM that passes the same method. For anything else use {@link
   * #initializedWith(String, DatabaseInitializer)}.
   */
  public static PostgresDatabase migratedWith(DatabaseInitializer initializer) {
    Objects.requireNonNull(initializer, "initializer");
    return new PostgresDatabase(templateIdOf(initializer), initializer);
  }

  /**
   * A database cloned from the template named {@code templateId}, prepared by {@code initializer}
   * on first use in this JVM. Every use of one {@code templateId} in a JVM gets the same template,
   * whatever initializer it passes.
   */
  public static PostgresDatabase initializedWith(
      String templateId, DatabaseInitializer initializer) {
    Objects.requireNonNull(templateId, "templateId");
    Objects.requireNonNull(initializer, "initializer");
    if (templateId.isBlank()) {
      throw new IllegalArgumentException("templateId must not be blank");
    }
    return new PostgresDatabase(templateId, initializer);
  }

  /**
   * Gives the database a time zone other than the JVM's (e.g. {@code "Pacific/Chatham"}, +12:45 /
   * +13:45, to flush out code that mixes up instants and local times). A region id, not an offset
   * (PostgreSQL reads {@code '+05:00'} POSIX-style, with the sign flipped).
   */
  public synchronized PostgresDatabase withTimeZone(String zoneId) {
    if (server != null) {
      throw new IllegalStateException("withTimeZone must be called before the database starts");
    }
    ZoneId zone = ZoneId.of(Objects.requireNonNull(zoneId, "zoneId"));
    if (zone instanceof ZoneOffset) {
      throw new IllegalArgumentException(
          "zoneId must be a region such as Pacific/Chatham, not an offset: " + zoneId);
    }
    this.timeZone = zone.getId();
    return this;
  }

  /** Creates the database now if it does not exist yet (JUnit does this in {@code beforeAll}). */
  public synchronized PostgresDatabase start() {
    if (server == null) {
      TestServer s = TestServer.get();
      String created;
      try {
        created = s.createDatabase(templateId, initializer);
      } catch (SQLException e) {
        throw new IllegalStateException("cannot create a test database: " + e.getMessage(), e);
      }
      try {
        if (timeZone != null) {
          s.setTimeZone(created, timeZone);
        }
      } catch (SQLException | RuntimeException e) {
        try {
          s.dropDatabase(created);
        } catch (SQLException dropFailure) {
          e.addSuppressed(dropFailure);
        }
        throw new IllegalStateException(
            "cannot configure test database " + created + ": " + e.getMessage(), e);
      }
      server = s;
      name = created;
    }
    return this;
  }

  /** Closes the pools and drops the database. Safe to call twice. */
  @Override
  public synchronized void close() {
    if (server == null) {
      return;
    }
    RuntimeException failure = null;
    for (HikariDataSource pool : pools) {
      try {
        pool.close();
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    pools.clear();
    dataSource = null;
    try {
      server.dropDatabase(name);
    } catch (SQLException e) {
      IllegalStateException dropFailure =
          new IllegalStateException("cannot drop test database " + name + ": " + e.getMessage(), e);
      if (failure != null) {
        dropFailure.addSuppressed(failure);
      }
      throw dropFailure;
    } finally {
      server = null;
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public synchronized void beforeAll(ExtensionContext context) {
    if (users++ == 0) {
      try {
        start();
      } catch (RuntimeException e) {
        users--;
        throw e;
      }
    }
  }

  @Override
  public synchronized void afterAll(ExtensionContext context) {
    if (users > 0 && --users == 0) {
      close();
    }
  }

  @Override
  public synchronized void beforeEach(ExtensionContext context) {
    if (server == null) {
      throw new ExtensionConfigurationException(
          "PostgresDatabase was not started: register it on a static field (@RegisterExtension"
              + " static final PostgresDatabase db = ...), or call start()");
    }
  }

  /**
   * The database's JDBC URL, complete with user (and password, if there is one), so it can be
   * handed to a child process as is.
   */
  public synchronized String jdbcUrl() {
    return started().address().urlFor(name);
  }

  public synchronized String user() {
    return started().address().user();
  }

  public synchronized Optional<String> password() {
    return Optional.ofNullable(started().address().password());
  }

  public synchronized String databaseName() {
    started();
    return name;
  }

  /** The zone set by {@link #withTimeZone(String)}, if any. */
  public synchronized Optional<ZoneId> timeZone() {
    return Optional.ofNullable(timeZone).map(ZoneId::of);
  }

  /** A small pool (5 connections) on the database, shared by the class and closed with it. */
  public synchronized HikariDataSource dataSource() {
    if (dataSource == null) {
      dataSource = newDataSource(DEFAULT_POOL_SIZE);
    }
    return dataSource;
  }

  /**
   * A new pool of up to {@code poolSize} connections, for tests that need more connections or their
   * own pool. It is closed with the database; closing it earlier is fine.
   */
  public synchronized HikariDataSource newDataSource(int poolSize) {
    if (poolSize < 1) {
      throw new IllegalArgumentException("poolSize must be at least 1, was " + poolSize);
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl());
    config.setPoolName("testkit-" + name + "-" + (pools.size() + 1));
    config.setMaximumPoolSize(poolSize);
    config.setMinimumIdle(Math.min(poolSize, 1));
    config.setConnectionTimeout(10_000);
    if (timeZone != null) {
      config.setConnectionInitSql("set time zone '" + timeZone + "'");
    }
    HikariDataSource pool = new HikariDataSource(config);
    pools.add(pool);
    return pool;
  }

  /**
   * Empties every table of schema {@code public} except Flyway's history, restarting identity
   * columns: a cheap reset between tests. Stand-alone sequences (such as {@code lease_token_seq})
   * keep counting.
   */
  public void truncateAllTables() throws SQLException {
    try (Connection c = dataSource().getConnection();
        Statement s = c.createStatement()) {
      List<String> tables = new ArrayList<>();
      try (ResultSet rs =
          s.executeQuery(
              "select tablename from pg_tables where schemaname = 'public' "
                  + "and tablename <> 'flyway_schema_history' order by tablename")) {
        while (rs.next()) {
          tables.add("public." + TestServer.quote(rs.getString(1)));
        }
      }
      if (!tables.isEmpty()) {
        truncate(s, "truncate table " + String.join(", ", tables) + " restart identity cascade");
      }
    }
  }

  /**
   * A server that is still running (its workers, a webhook pass) may hold a lock on one table
   * while wanting another that the truncate has already locked; PostgreSQL then aborts one of
   * the two as a deadlock. When the truncate is the one aborted, it simply runs again.
   */
  private static void truncate(Statement s, String sql) throws SQLException {
    for (int attempt = 1; ; attempt++) {
      try {
        s.execute(sql);
        return;
      } catch (SQLException e) {
        if (!"40P01".equals(e.getSQLState()) || attempt == TRUNCATE_ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  @Override
  public String toString() {
    return "PostgresDatabase["
        + (name == null ? "not started" : name)
        + (templateId == null ? ", empty" : ", template " + templateId)
        + (timeZone == null ? "" : ", time zone " + timeZone)
        + "]";
  }

  private synchronized TestServer started() {
    if (server == null) {
      throw new IllegalStateException(
          "the test database is not started (register PostgresDatabase on a "
              + "static field with @RegisterExtension, or call start())");
    }
    return server;
  }

  /**
   * "dev.changesync.migrations.Migrations::migrate(Ljavax/sql/DataSource;)L...;" for a method
   * reference: the same for every {@code Migrations::migrate} expression in the JVM, although each
   * is a distinct object of a distinct class.
   */
  static String templateIdOf(DatabaseInitializer initializer) {
    SerializedLambda lambda = null;
    try {
      Method writeReplace = initializer.getClass().getDeclaredMethod("writeReplace");
      writeReplace.setAccessible(true);
      if (writeReplace.invoke(initializer) instanceof SerializedLambda serialized) {
        lambda = serialized;
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      lambda = null;
    }
    if (lambda == null || lambda.getCapturedArgCount() > 0) {
      throw new IllegalArgumentException(
          "cannot tell which template "
              + initializer
              + " prepares: pass a "
              + "method reference such as Migrations::migrate, or name the template with "
              + "PostgresDatabase.initializedWith(templateId, initializer)");
    }
    return lambda.getImplClass().replace('/', '.')
        + "::"
        + lambda.getImplMethodName()
        + lambda.getImplMethodSignature();
  }
}
