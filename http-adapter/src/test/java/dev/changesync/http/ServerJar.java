package dev.changesync.http;

import static java.util.concurrent.TimeUnit.SECONDS;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged server jar ({@code target/changesync-server.jar}, built by {@code package}) running
 * as a child process, its output collected line by line.
 */
final class ServerJar implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LISTENING = Pattern.compile("listening on (http://[^ \"]+)");

  private final Process process;
  private final List<String> output = Collections.synchronizedList(new ArrayList<>());

  private Thread drainer;

  private ServerJar(Process process) {
    this.process = process;
    drain(process.getInputStream());
  }

  /**
   * Waits up to {@code within} for the process to exit by itself and returns its exit status, with
   * all its output read; -1 when it is still running then.
   */
  int awaitExit(java.time.Duration within) throws InterruptedException {
    if (!process.waitFor(within.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
      return -1;
    }
    drainer.join(10_000);
    return process.exitValue();
  }

  static Path jar() {
    Path jar = Path.of(System.getProperty("changesync.server.jar", "target/changesync-server.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("the server jar (built by mvn package) is missing: " + jar);
    }
    return jar;
  }

  /**
   * Starts {@code java <jvmOptions> -jar <jar>} with only {@code env}'s CHANGESYNC_ settings (and
   * no {@code XDG_DATA_HOME} unless {@code env} sets it: the data directory follows {@code HOME}).
   */
  static ServerJar start(Map<String, String> env, List<String> jvmOptions) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-jar");
    command.add(jar().toString());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().keySet().removeIf(k -> k.startsWith("CHANGESYNC_"));
    builder.environment().remove("XDG_DATA_HOME");
    builder.environment().putAll(env);
    return new ServerJar(builder.start());
  }

  private void drain(InputStream in) {
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  output.add(line);
                }
              } catch (IOException e) {
                // the process is gone
              }
            },
            "server-jar-output");
    drainer = t;
    t.setDaemon(true);
    t.start();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** {@code kill -9}: the JVM dies at once, running nothing on its way out. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, SECONDS)) {
      throw new IllegalStateException("the server survived SIGKILL");
    }
  }

  /** SIGTERM, then its exit status once it has stopped (within 60 s). */
  int terminate() throws InterruptedException {
    process.toHandle().destroy();
    return exitStatus();
  }

  /** Its exit status once it has ended by itself (within 60 s). */
  int exitStatus() throws InterruptedException {
    if (!process.waitFor(60, SECONDS)) {
      throw new IllegalStateException("the server did not stop within 60 s:\n" + output());
    }
    return process.exitValue();
  }

  /** Where the server listens, once it has said so. */
  Optional<URI> baseUri() {
    synchronized (output) {
      for (String line : output) {
        Matcher m = LISTENING.matcher(message(line));
        if (m.find()) {
          return Optional.of(URI.create(m.group(1)));
        }
      }
    }
    return Optional.empty();
  }

  /** Everything the process wrote so far (stdout and stderr). */
  String output() {
    synchronized (output) {
      return String.join("\n", output);
    }
  }

  /** The message of a log line: JSON lines carry it in {@code message}. */
  private static String message(String line) {
    if (!line.startsWith("{")) {
      return line;
    }
    try {
      return JSON.readTree(line).path("message").asText("");
    } catch (IOException e) {
      return line;
    }
  }

  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    process.toHandle().destroy(); // SIGTERM, through the handle: keeps our ends of its pipes open
    try {
      if (!process.waitFor(30, SECONDS)) {
        process.destroyForcibly().waitFor(10, SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
