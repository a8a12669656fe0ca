package dev.changesync.cli;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code changesync}: the operator's command line (SPEC §5). Every command parses its arguments,
 * asks one {@link Backend} — a running server's HTTP API, or the database itself through
 * sync-engine's services — and formats the answer, as a person reads it or as the API's JSON
 * ({@code --json}).
 *
 * <p>Which backend: see {@link Target}. Exit codes: see {@link ExitCodes}.
 *
 * <pre>{@code
 * int exitCode = ChangesyncCli.run(CliContext.system(), "status", "acme/widgets");
 * }</pre>
 */
@Command(
    name = "changesync",
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {
      "Diagnostics and operations of changesync: the change state of GitHub repositories in"
          + " PostgreSQL, kept by workers under fenced leases.",
      "Talks to a running server's HTTP API, or straight to the database — which works when no"
          + " server is running."
    },
    subcommands = {
      StatusCommand.class,
      PrCommand.class,
      LeasesCommand.class,
      WorkersCommand.class,
      ReposCommand.class,
      BackfillCommand.class,
      TrackCommand.class,
      FetchCommand.class,
      UntrackCommand.class,
      RecoverCommand.class,
      MigrateCommand.class,
      ServeCommand.class,
      AutoComplete.GenerateCompletion.class
    },
    footerHeading = "%nWhere answers come from:%n",
    footer = {
      "  --server URL (else CHANGESYNC_SERVER_URL): a running server's HTTP API.",
      "  --database-url JDBC_URL (else CHANGESYNC_DATABASE_URL): the database itself;",
      "    user and password in the URL or in CHANGESYNC_DATABASE_USER / _PASSWORD.",
      "  --data-dir DIR (else CHANGESYNC_DATA_DIR): the embedded PostgreSQL on DIR,",
      "    started by the command itself; refused while a server holds DIR.",
      "  A flag wins over the environment, CHANGESYNC_SERVER_URL over",
      "  CHANGESYNC_DATABASE_URL over CHANGESYNC_DATA_DIR; with none, the server at",
      "  " + Target.DEFAULT_SERVER + ".",
      "  Over HTTP, reads send CHANGESYNC_READ_TOKEN as a bearer token (when set),",
      "  admin actions CHANGESYNC_ADMIN_TOKEN.",
      "%nExit codes: 0 ok, 1 failure (not found, unreachable, refused), 2 usage error."
    })
public final class ChangesyncCli implements Callable<Integer> {

  /** How long one request may take without {@code --timeout}. */
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private final CliContext context;

  @Spec CommandSpec spec;

  @Option(
      names = "--server",
      paramLabel = "URL",
      scope = ScopeType.INHERIT,
      description = "Ask the server at URL (default: see below).")
  String server;

  @Option(
      names = "--database-url",
      paramLabel = "JDBC_URL",
      scope = ScopeType.INHERIT,
      description = "Read and act on the database directly, no server needed.")
  String databaseUrl;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      scope = ScopeType.INHERIT,
      description =
          "Use the embedded PostgreSQL on data directory DIR directly (when no server holds it).")
  String dataDir;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      scope = ScopeType.INHERIT,
      converter = Converters.PositiveDuration.class,
      description =
          "Give up after DURATION: each request to the server or the database (default 10s);"
              + " with --wait, the whole wait (default: no limit). Exit code 1.")
  Duration timeout;

  @Option(
      names = "--json",
      scope = ScopeType.INHERIT,
      description = "Print the API's JSON instead of text.")
  boolean json;

  public ChangesyncCli(CliContext context) {
    this.context = requireNonNull(context, "context");
  }

  /** A command line for {@code context}: its streams, colours and error handling set. */
  public static CommandLine commandLine(CliContext context) {
    CommandLine cmd = new CommandLine(new ChangesyncCli(context));
    ServeCommand.addServerSettings(cmd.getSubcommands().get("serve"));
    cmd.getSubcommands()
        .get("generate-completion")
        .getCommandSpec()
        .usageMessage()
        .hidden(false)
        .description("Print a bash/zsh completion script: source <(changesync generate-completion)");
    cmd.setOut(context.out());
    cmd.setErr(context.err());
    cmd.setColorScheme(CommandLine.Help.defaultColorScheme(context.ansi()));
    cmd.setParameterExceptionHandler(ErrorHandler::handleParseException);
    cmd.setExecutionExceptionHandler(new ErrorHandler());
    return cmd;
  }

  /** Runs {@code args} and returns the exit code (0 ok, 1 failure, 2 usage error). */
  public static int run(CliContext context, String... args) {
    try {
      return commandLine(context).execute(args);
    } finally {
      context.out().flush();
      context.err().flush();
    }
  }

  /** {@code changesync} alone: a command is needed. */
  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "Missing required command");
  }

  CliContext context() {
    return context;
  }

  boolean json() {
    return json;
  }

  /**
   * Opens the backend {@link Target#choose chosen} from the flags and the environment.
   *
   * @param cmd the command being run, for its usage on a bad flag
   */
  Backend openBackend(CommandLine cmd) {
    Target target = target(cmd);
    if (target instanceof Target.Server s) {
      return new HttpBackend(
          s.url(),
          token("CHANGESYNC_ADMIN_TOKEN"),
          token("CHANGESYNC_READ_TOKEN"),
          requestTimeout());
    }
    return DatabaseBackend.open((Target.DirectDatabase) target, context, requestTimeout());
  }

  /** How long one request to the server or the database may take. */
  Duration requestTimeout() {
    return timeout == null ? DEFAULT_TIMEOUT : timeout;
  }

  /** The {@code --timeout} flag, when given. */
  Optional<Duration> timeoutFlag() {
    return Optional.ofNullable(timeout);
  }

  /** The database of database-only commands ({@code migrate}). */
  Target.DirectDatabase database(CommandLine cmd) {
    try {
      return Target.database(server, databaseUrl, dataDir, context.env());
    } catch (Target.InvalidTarget e) {
      throw e.fromFlag() ? new ParameterException(cmd, e.getMessage()) : new CliException(
          e.getMessage(), ExitCodes.USAGE);
    }
  }

  Target target(CommandLine cmd) {
    try {
      return Target.choose(server, databaseUrl, dataDir, context.env());
    } catch (Target.InvalidTarget e) {
      throw e.fromFlag() ? new ParameterException(cmd, e.getMessage()) : new CliException(
          e.getMessage(), ExitCodes.USAGE);
    }
  }

  /** The {@code --database-url} flag, when given. */
  Optional<String> databaseUrlFlag() {
    return Optional.ofNullable(databaseUrl).filter(u -> !u.isBlank());
  }

  /** The {@code --data-dir} flag, when given. */
  Optional<String> dataDirFlag() {
    return Optional.ofNullable(dataDir).filter(d -> !d.isBlank());
  }

  /** The {@code --server} flag, when given. */
  Optional<String> serverFlag() {
    return Optional.ofNullable(server).filter(u -> !u.isBlank());
  }

  private Optional<String> token(String variable) {
    return Optional.ofNullable(context.env().get(variable))
        .map(String::strip)
        .filter(t -> !t.isEmpty());
  }
}
