package dev.changesync.engine.lease;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A worker process for tests about processes dying: a child JVM on this test's class path, its
 * standard output read line by line, signalled with {@code kill}.
 */
public final class ChildJvm {

  private final Process process;
  private final Writer stdin;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

  private ChildJvm(Process process) {
    this.process = process;
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader out =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                  lines.add(line);
                }
              } catch (IOException e) {
                lines.add("EOF " + e.getMessage());
              }
            },
            "child-stdout-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code main} with {@code args} in a small JVM; its standard error goes to ours. */
  public static ChildJvm start(Class<?> main, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx128m");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(List.of(args));
    return new ChildJvm(
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start());
  }

  public long pid() {
    return process.pid();
  }

  /** The next line the child printed; fails after 30 s without one. */
  public String next() throws InterruptedException {
    return next(Duration.ofSeconds(30));
  }

  /** The next line the child printed; fails after {@code timeout} without one. */
  public String next(Duration timeout) throws InterruptedException {
    String line = lines.poll(timeout.toMillis(), MILLISECONDS);
    assertThat(line).as("a line from the child process").isNotNull();
    return line;
  }

  /** The next line that is one of {@code wanted}, skipping the others. */
  public String nextMatching(String... wanted) throws InterruptedException {
    while (true) {
      String line = next();
      for (String w : wanted) {
        if (line.equals(w)) {
          return line;
        }
      }
    }
  }

  public void send(String command) throws IOException {
    stdin.write(command + "\n");
    stdin.flush();
  }

  /** Sends {@code signal} ({@code KILL}, {@code STOP}, {@code CONT}); after KILL, waits for the end. */
  public void signal(String signal) throws IOException, InterruptedException {
    Process kill =
        new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
    assertThat(kill.waitFor()).isZero();
    if (signal.equals("KILL")) {
      assertThat(process.waitFor(10, SECONDS)).isTrue();
    }
  }

  /** Kills the child (resuming it first, in case it is stopped) and waits for it. */
  public void kill() {
    process.destroyForcibly();
    try {
      new ProcessBuilder("kill", "-CONT", Long.toString(process.pid())).start().waitFor();
      process.waitFor(10, SECONDS);
    } catch (IOException e) {
      // Gone already.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
