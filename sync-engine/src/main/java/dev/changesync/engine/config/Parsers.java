package dev.changesync.engine.config;

import dev.changesync.engine.config.ChangesyncConfig.LogFormat;
import dev.changesync.engine.config.ChangesyncConfig.Role;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The parsers of single {@link Setting}s. Each takes the stripped, non-empty text and returns the
 * value, or throws an {@link IllegalArgumentException} whose message says what is wrong with the
 * value; {@link ChangesyncConfig} puts the variable (or flag) in front of it.
 */
final class Parsers {

  private Parsers() {}

  static Duration duration(String value, boolean zeroAllowed) {
    Duration d = Durations.parse(value);
    if (d.isZero() && !zeroAllowed) {
      throw new IllegalArgumentException("'" + value + "' must be longer than zero");
    }
    return d;
  }

  static Integer integer(String value, int min, int max) {
    int parsed;
    try {
      parsed = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw bad(value, "is not a whole number");
    }
    if (parsed < min || parsed > max) {
      String range = max == Integer.MAX_VALUE ? "at least " + min : "between " + min + " and " + max;
      throw new IllegalArgumentException(parsed + " is out of range (" + range + ")");
    }
    return parsed;
  }

  static Long positiveLong(String value) {
    try {
      long parsed = Long.parseLong(value);
      if (parsed > 0) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw bad(value, "is not a positive whole number");
  }

  static Role role(String value) {
    for (Role r : Role.values()) {
      if (r.configName().equalsIgnoreCase(value)) {
        return r;
      }
    }
    throw bad(value, "is not a role (all, http or worker)");
  }

  static LogFormat logFormat(String value) {
    for (LogFormat f : LogFormat.values()) {
      if (f.configName().equalsIgnoreCase(value)) {
        return f;
      }
    }
    throw bad(value, "is not a log format (text or json)");
  }

  static Boolean synchronousCommit(String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "sync" -> true;
      case "async" -> false;
      default -> throw bad(value, "is not async or sync");
    };
  }

  static Boolean onOff(String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "on", "true", "yes", "1" -> true;
      case "off", "false", "no", "0" -> false;
      default -> throw bad(value, "is not on or off");
    };
  }

  /** A JDBC URL as given, or a libpq URL ({@code postgres://...}) turned into one. */
  static String jdbcUrl(String value) {
    if (PostgresUrls.isLibpqUrl(value)) {
      try {
        return PostgresUrls.toJdbc(value);
      } catch (IllegalArgumentException e) {
        throw bad(ChangesyncConfig.redactUrl(value), e.getMessage());
      }
    }
    if (!value.startsWith("jdbc:postgresql:")) {
      throw bad(
          ChangesyncConfig.redactUrl(value),
          "is not a PostgreSQL URL (jdbc:postgresql://HOST:PORT/DATABASE or"
              + " postgres://USER:PASSWORD@HOST:PORT/DATABASE)");
    }
    return value;
  }

  static String workerName(String value) {
    if (!ChangesyncConfig.isWorkerName(value)) {
      throw bad(
          value,
          "is not a worker name (1-"
              + ChangesyncConfig.MAX_WORKER_NAME_LENGTH
              + " characters, no spaces or control characters)");
    }
    return value;
  }

  /** An http(s) URL without query or fragment, its trailing slashes removed. */
  static URI httpUrl(String value) {
    try {
      URI uri = new URI(value);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if ((scheme.equals("http") || scheme.equals("https"))
          && uri.getHost() != null
          && uri.getQuery() == null
          && uri.getFragment() == null) {
        String text = uri.toString();
        while (text.endsWith("/")) {
          text = text.substring(0, text.length() - 1);
        }
        return URI.create(text);
      }
    } catch (URISyntaxException e) {
      // reported below
    }
    throw bad(value, "is not an http(s) URL (e.g. https://api.github.com or https://HOST/api/v3)");
  }

  /** An absolute, normalised path (a relative one resolved against the working directory). */
  static Path dataDir(String value) {
    try {
      Path path = Path.of(value);
      if (path.isAbsolute()) {
        return path.normalize();
      }
      return Path.of("").toAbsolutePath().resolve(path).normalize();
    } catch (InvalidPathException e) {
      throw bad(value, "is not a path (" + e.getReason() + ")");
    }
  }

  static String appId(String value) {
    if (value.matches("[1-9][0-9]{0,18}|Iv[0-9A-Za-z._]{1,100}")) {
      return value;
    }
    throw bad(value, "is not a GitHub App id (a number, or a client id Iv...)");
  }

  static Path readableFile(String value) {
    try {
      Path path = Path.of(value);
      if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
        throw bad(value, "is not a readable file");
      }
      return path;
    } catch (InvalidPathException e) {
      throw bad(value, "is not a path");
    }
  }

  static IllegalArgumentException bad(String value, String what) {
    return new IllegalArgumentException("'" + Durations.printable(value) + "' " + what);
  }
}
