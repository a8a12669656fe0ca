package dev.changesync.cli;

import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Help.Ansi;

/**
 * Runs the CLI in-process, as {@code changesync ARGS...} would run: with an injected environment,
 * captured stdout and stderr, a clock of its own and no terminal.
 */
final class CliRunner {

  /** What a run printed, and its exit code. */
  record Result(int exitCode, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private final Map<String, String> env = new HashMap<>();
  private InstantSource clock = InstantSource.system();
  private Optional<InstantSource> engineClock = Optional.empty();
  private boolean interactive;
  private CompletableFuture<Void> stop = new CompletableFuture<>();

  /** A run with an empty environment. */
  static CliRunner cli() {
    return new CliRunner();
  }

  /** A run whose environment names {@code db} (URL and user), as an operator's shell would. */
  static CliRunner cli(PostgresDatabase db) {
    CliRunner runner = new CliRunner().env("CHANGESYNC_DATABASE_URL", db.jdbcUrl());
    // Tracking asks GitHub whether a repository exists; a test that cares sets its own fake.
    runner.env("CHANGESYNC_GITHUB_API_URL", FakeGitHub.knowingEveryRepository().baseUrl());
    runner.env("CHANGESYNC_DATABASE_USER", db.user());
    db.password().ifPresent(p -> runner.env("CHANGESYNC_DATABASE_PASSWORD", p));
    return runner;
  }

  CliRunner env(String name, String value) {
    env.put(name, value);
    return this;
  }

  CliRunner clock(InstantSource value) {
    this.clock = value;
    return this;
  }

  /** The clock the engine decides lease states with in database mode (and relative times). */
  CliRunner engineClock(InstantSource value) {
    this.engineClock = Optional.of(value);
    this.clock = value;
    return this;
  }

  CliRunner interactive(boolean value) {
    this.interactive = value;
    return this;
  }

  CliRunner stop(CompletableFuture<Void> value) {
    this.stop = value;
    return this;
  }

  Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CliContext context =
        new CliContext(
            env,
            new PrintWriter(out, true),
            new PrintWriter(err, true),
            clock,
            engineClock,
            interactive,
            Ansi.OFF,
            stop);
    int exitCode = ChangesyncCli.run(context, args);
    return new Result(exitCode, out.toString(), err.toString());
  }
}
