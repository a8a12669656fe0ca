package dev.changesync.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
   * ending the process: the work sees the signal and finishes, the JVM waits for that (up to
   * {@code finishWithin}) and then exits with the work's exit code — not the 130 or 143 of a
   * killed process, since the stop was handled.
   */
  final int untilStopped(Duration finishWithin, Stoppable work) throws Exception {
    CountDownLatch finished = new CountDownLatch(1);
    AtomicInteger exitCode = new AtomicInteger(ExitCodes.FAILURE);
    Thread hook =
        new Thread(
            () -> {
              context().stop().complete(null);
              try {
                if (finished.await(finishWithin.toMillis(), TimeUnit.MILLISECONDS)) {
                  context().out().flush();
                  context().err().flush();
                  Runtime.getRuntime().halt(exitCode.get());
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "changesync-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      int code = work.run();
      exitCode.set(code);
      return code;
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
