package dev.changesync.cli;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** A subcommand: parses (picocli), delegates (one {@link Backend} call), formats. */
abstract class CliCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  final ChangesyncCli cli() {
    return (ChangesyncCli) spec.root().userObject();
  }

  final CliContext context() {
    return cli().context();
  }

  final PrintWriter out() {
    return context().out();
  }

  final boolean json() {
    return cli().json();
  }

  /** "Now" of relative times in answers that carry none. */
  final Instant now() {
    return context().clock().instant();
  }

  /** The backend of the selected mode; close it. */
  final Backend backend() {
    return cli().openBackend(spec.commandLine());
  }

  /** Prints the answer's JSON with {@code --json}, else {@code human} of its value. */
  final <T> int print(Answer<T> answer, Function<T, String> human) {
    if (json()) {
      out().println(answer.json());
    } else {
      out().print(human.apply(answer.value()));
    }
    out().flush();
    return ExitCodes.OK;
  }

  /** A usage error of this command: the message and its usage on stderr, exit code 2. */
  final ParameterException usageError(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /** Work that runs until done or until the user asks to stop; see {@link #untilStopped}. */
  @FunctionalInterface
  interface Stoppable {
    int run() throws Exception;
  }

  /**
   * Runs {@code work} so that Ctrl-C or SIGTERM completes {@link CliContext#stop()} instead of just
   * ending the process: the work sees the signal, finishes what it prints, and the JVM waits for
   * that (up to a few seconds) before it exits.
   */
  final int untilStopped(Stoppable work) throws Exception {
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              context().stop().complete(null);
              try {
                finished.await(5, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "changesync-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return work.run();
    } finally {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // The JVM is shutting down: the hook is running, and just learnt we are done.
      }
    }
  }
}
