package dev.changesync.migrations;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * Applies the changesync migrations and exits: {@code MigrationsMain [JDBC_URL]}.
 *
 * <p>The URL comes from the argument or else {@code CHANGESYNC_DATABASE_URL}; user and password
 * from the URL or from {@code CHANGESYNC_DATABASE_USER} / {@code CHANGESYNC_DATABASE_PASSWORD}.
 * Exit status: 0 applied or already current, 1 failed, 2 usage error.
 */
public final class MigrationsMain {

  static final String URL_VARIABLE = "CHANGESYNC_DATABASE_URL";
  static final String USER_VARIABLE = "CHANGESYNC_DATABASE_USER";
  static final String PASSWORD_VARIABLE = "CHANGESYNC_DATABASE_PASSWORD";

  private static final String USAGE =
      "usage: MigrationsMain [JDBC_URL]   (default: $"
          + URL_VARIABLE
          + "; "
          + "credentials in the URL or in $"
          + USER_VARIABLE
          + " / $"
          + PASSWORD_VARIABLE
          + ")";

  private MigrationsMain() {}

  public static void main(String[] args) {
    int status = run(List.of(args), System.getenv(), System.out, System.err);
    if (status != 0) {
      System.exit(status);
    }
  }

  static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
    if (args.size() > 1
        || (args.size() == 1 && (args.get(0).equals("-h") || args.get(0).equals("--help")))) {
      (args.size() == 1 ? out : err).println(USAGE);
      return args.size() == 1 ? 0 : 2;
    }
    String url = args.isEmpty() ? blankToNull(env.get(URL_VARIABLE)) : args.get(0);
    if (url == null) {
      err.println("no database: pass a JDBC URL or set " + URL_VARIABLE);
      err.println(USAGE);
      return 2;
    }
    if (!url.startsWith("jdbc:postgresql:")) {
      // The URL may carry a password: name the problem, not the value.
      err.println(
          (args.isEmpty() ? URL_VARIABLE : "JDBC_URL")
              + " must be a PostgreSQL JDBC URL "
              + "(jdbc:postgresql://HOST:PORT/DATABASE)");
      return 2;
    }
    try {
      MigrationResult result =
          Migrations.migrate(
              url, blankToNull(env.get(USER_VARIABLE)), blankToNull(env.get(PASSWORD_VARIABLE)));
      if (result.changed()) {
        out.printf(
            "changesync schema migrated from %s to version %s (applied %s)%n",
            result.previousVersion().map(v -> "version " + v).orElse("an empty database"),
            result.schemaVersion(),
            String.join(", ", result.appliedVersions()));
      } else {
        out.printf("changesync schema is up to date (version %s)%n", result.schemaVersion());
      }
      return 0;
    } catch (RuntimeException e) {
      err.println("migration failed: " + e.getMessage());
      return 1;
    }
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value;
  }
}
