package dev.changesync.testkit;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.Driver;

/**
 * Where the test PostgreSQL server is and how to log in, able to name any database on it.
 *
 * @param hostPart {@code jdbc:postgresql://host[:port][,host2[:port2]...]}
 * @param maintenanceDatabase the database to connect to for {@code create / drop database}
 * @param query URL parameters without the leading {@code ?}, always including {@code user} (and
 *     {@code password} when there is one), so a URL built from it stands alone
 * @param user the user name
 * @param password the password, or null
 */
record ServerAddress(
    String hostPart, String maintenanceDatabase, String query, String user, String password) {

  private static final Pattern URL =
      Pattern.compile("^(jdbc:postgresql://[^/?]+)(?:/([^?]*))?(?:\\?(.*))?$");

  ServerAddress {
    Objects.requireNonNull(hostPart, "hostPart");
    Objects.requireNonNull(maintenanceDatabase, "maintenanceDatabase");
    Objects.requireNonNull(query, "query");
    Objects.requireNonNull(user, "user");
  }

  /**
   * Parses {@code jdbc:postgresql://HOST[:PORT]/DATABASE[?PARAMS]}. A URL without a user means the
   * operating-system user, as for pgjdbc; the user is then written into the query.
   *
   * @throws IllegalArgumentException for anything else (the message does not repeat the URL, which
   *     may hold a password)
   */
  static ServerAddress parse(String jdbcUrl) {
    Matcher m = URL.matcher(jdbcUrl);
    Properties properties = m.matches() ? Driver.parseURL(jdbcUrl, new Properties()) : null;
    if (properties == null) {
      throw new IllegalArgumentException(
          "not a PostgreSQL JDBC URL of the form"
              + " jdbc:postgresql://HOST[:PORT]/DATABASE[?user=...]");
    }
    String query = m.group(3) == null ? "" : m.group(3);
    String user = properties.getProperty("user");
    if (user == null) {
      user = System.getProperty("user.name");
      query = append(query, "user", user);
    }
    String database = m.group(2) == null ? "" : m.group(2);
    return new ServerAddress(m.group(1), database, query, user, properties.getProperty("password"));
  }

  /**
   * The same server with credentials that the URL did not carry (Testcontainers hands them out
   * apart).
   */
  ServerAddress withCredentials(String newUser, String newPassword) {
    String q = query.replaceAll("(^|&)(user|password)=[^&]*", "").replaceFirst("^&", "");
    q = append(q, "user", newUser);
    if (newPassword != null) {
      q = append(q, "password", newPassword);
    }
    return new ServerAddress(hostPart, maintenanceDatabase, q, newUser, newPassword);
  }

  /** A self-contained JDBC URL (credentials included) for {@code database} on this server. */
  String urlFor(String database) {
    return hostPart + "/" + database + (query.isEmpty() ? "" : "?" + query);
  }

  String maintenanceUrl() {
    return urlFor(maintenanceDatabase);
  }

  /** The URL with any password masked, for log lines and messages. */
  String describe(String database) {
    return urlFor(database).replaceAll("(?<=[?&]password=)[^&]*", "***");
  }

  private static String append(String query, String name, String value) {
    String parameter = name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
    return query.isEmpty() ? parameter : query + "&" + parameter;
  }
}
