package dev.changesync.cli;

import static java.util.Objects.requireNonNull;

import java.io.Console;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.lang.reflect.Method;
import java.nio.charset.Charset;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Help.Ansi;

/**
 * Everything a run of the CLI takes from its surroundings, so that tests can run it in-process:
 * the environment, standard output and error, the clock of relative times, whether output goes to
 * a terminal, and a stop signal (Ctrl-C).
 *
 * @param env the environment variables ({@code CHANGESYNC_*})
 * @param clock "now" of relative times ("12s ago") where an answer carries no "now" of its own
 * @param engineClock in database mode, the engine decides lease states with this clock instead of
 *     the database's — for tests only
 * @param interactive output goes to a terminal: progress bars instead of progress lines
 * @param ansi colours in help
 * @param stop completed when the user asks the CLI to stop (Ctrl-C, SIGTERM): {@code backfill
 *     --wait} stops waiting, {@code serve} stops the server
 */
public record CliContext(
    Map<String, String> env,
    PrintWriter out,
    PrintWriter err,
    InstantSource clock,
    Optional<InstantSource> engineClock,
    boolean interactive,
    Ansi ansi,
    CompletableFuture<Void> stop) {

  public CliContext {
    env = Map.copyOf(env);
    requireNonNull(out, "out");
    requireNonNull(err, "err");
    requireNonNull(clock, "clock");
    requireNonNull(engineClock, "engineClock");
    requireNonNull(ansi, "ansi");
    requireNonNull(stop, "stop");
  }

  /** The real process: its environment, standard streams, system clock and terminal. */
  public static CliContext system() {
    Charset charset = consoleCharset();
    return new CliContext(
        System.getenv(),
        new PrintWriter(new OutputStreamWriter(System.out, charset), true),
        new PrintWriter(new OutputStreamWriter(System.err, charset), true),
        InstantSource.system(),
        Optional.empty(),
        isTerminal(),
        Ansi.AUTO,
        new CompletableFuture<>());
  }

  private static Charset consoleCharset() {
    String encoding = System.getProperty("stdout.encoding");
    try {
      return encoding == null ? Charset.defaultCharset() : Charset.forName(encoding);
    } catch (IllegalArgumentException e) {
      return Charset.defaultCharset();
    }
  }

  /**
   * Whether standard input and output are a terminal. Before Java 22 {@code System.console()} is
   * null otherwise; from 22 on it may exist anyway, and {@code Console.isTerminal()} tells.
   */
  static boolean isTerminal() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      Method isTerminal = Console.class.getMethod("isTerminal");
      return (Boolean) isTerminal.invoke(console);
    } catch (NoSuchMethodException e) {
      return true; // Java 17-21: a console means a terminal
    } catch (ReflectiveOperationException | ClassCastException e) {
      return false;
    }
  }
}
