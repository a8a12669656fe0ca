package dev.changesync.cli;

import dev.changesync.engine.config.ConfigException;
import dev.changesync.engine.service.BadInputException;
import dev.changesync.engine.service.ServiceException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Turns what a command threw into one line on stderr and an exit code: the service's own code for
 * a {@link ServiceException} (2 for bad input, with the command's usage; 1 otherwise), the {@link
 * CliException}'s code, 2 for a bad setting, and 1 for anything unexpected. Parse errors go to
 * {@link #handleParseException}: the message, picocli's suggestions for a mistyped command, the
 * command's usage, exit code 2.
 */
final class ErrorHandler implements IExecutionExceptionHandler {

  static int handleParseException(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println(ex.getMessage());
    UnmatchedArgumentException.printSuggestions(ex, err);
    cmd.usage(err, cmd.getColorScheme());
    err.flush();
    return ExitCodes.USAGE;
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
    PrintWriter err = cmd.getErr();
    int exitCode;
    if (ex instanceof CliException e) {
      err.println(e.getMessage());
      exitCode = e.exitCode();
    } else if (ex instanceof BadInputException e) {
      err.println(e.getMessage());
      cmd.usage(err, cmd.getColorScheme());
      exitCode = e.exitCode();
    } else if (ex instanceof ServiceException e) {
      err.println(e.getMessage());
      exitCode = e.exitCode();
    } else if (ex instanceof ConfigException e) {
      err.println(e.getMessage());
      exitCode = ExitCodes.USAGE;
    } else {
      err.println(
          cmd.getCommandName()
              + " failed: "
              + DatabaseBackend.rootMessage(ex)
              + " ("
              + ex.getClass().getName()
              + ")");
      exitCode = ExitCodes.FAILURE;
    }
    err.flush();
    return exitCode;
  }
}
