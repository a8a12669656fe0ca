package dev.changesync.cli;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.config.Setting;
import dev.changesync.http.ChangesyncServer;
import dev.changesync.http.HttpSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code changesync serve}: the server, in this process — what {@code java -jar
 * changesync-server.jar} runs, with the same settings from the same environment variables and the
 * same {@code --flags} (every {@link Setting}; {@code --database-url} is the global option). Runs
 * until Ctrl-C or SIGTERM, then stops gracefully (requests drain, running passes finish within the
 * shutdown grace, leases are released) and exits 0.
 */
@Command(
    name = "serve",
    abbreviateSynopsis = true,
    description = {
      "Start the changesync server here: the HTTP API and the workers, as the server jar does.",
      "Every setting is an environment variable or the flag below (flags win). Ctrl-C or SIGTERM"
          + " stops it gracefully."
    },
    footerHeading = "%n",
    footer = {"Exit codes: 0 stopped cleanly, 1 could not start, 2 bad setting."})
final class ServeCommand extends CliCommand {

  /**
   * Adds one option per server setting to {@code serve}: {@code --http-port PORT} and so on, with
   * the variable and default in its description. {@code --database-url} is the global option.
   */
  static void addServerSettings(CommandLine serve) {
    CommandSpec spec = serve.getCommandSpec();
    for (Setting<?> s : ChangesyncServer.settings()) {
      if (s == Setting.DATABASE_URL || s == Setting.DATA_DIR) {
        continue; // the root's --database-url and --data-dir
      }
      spec.addOption(
          OptionSpec.builder(s.flag())
              .paramLabel(s.secret() ? "SECRET" : "VALUE")
              .type(String.class)
              .description(
                  s.description()
                      + " ("
                      + s.envName()
                      + s.defaultValue().map(d -> ", default " + d).orElse("")
                      + ")")
              .build());
    }
  }

  @Override
  public Integer call() throws Exception {
    if (cli().serverFlag().isPresent()) {
      throw usageError("serve starts a server; --server names one to talk to: drop it");
    }
    ChangesyncConfig config =
        ChangesyncConfig.from(context().env(), settings(), HttpSettings.SETTINGS);
    ChangesyncServer.configureLogging(config.logFormat());
    ChangesyncServer server;
    try {
      server = ChangesyncServer.start(config);
    } catch (RuntimeException e) {
      if (e instanceof dev.changesync.engine.config.ConfigException) {
        throw e;
      }
      throw new CliException(
          "the server could not start: " + DatabaseBackend.rootMessage(e), ExitCodes.FAILURE, e);
    }
    return untilStopped(
        NO_LIMIT,
        () -> {
          try {
            context().stop().get();
          } finally {
            server.close();
          }
          return ExitCodes.OK;
        });
  }

  /** The settings given as flags, as {@code --flag value} pairs for {@link ChangesyncConfig}. */
  private List<String> settings() {
    List<String> args = new ArrayList<>();
    cli().databaseUrlFlag().ifPresent(url -> add(args, Setting.DATABASE_URL.flag(), url));
    cli().dataDirFlag().ifPresent(dir -> add(args, Setting.DATA_DIR.flag(), dir));
    ParseResult parsed = spec.commandLine().getParseResult();
    for (Setting<?> s : ChangesyncServer.settings()) {
      if (s == Setting.DATABASE_URL || s == Setting.DATA_DIR) {
        continue;
      }
      String value = parsed.matchedOptionValue(s.flag(), (String) null);
      if (value != null) {
        add(args, s.flag(), value);
      }
    }
    return args;
  }

  private static void add(List<String> args, String flag, String value) {
    // One argument, so that a value starting with "--" is never read as a flag.
    args.add(flag + "=" + value);
  }

  /** The server's own drain and shutdown grace bound how long stopping takes. */
  private static final Duration NO_LIMIT = Duration.ofDays(1);
}
