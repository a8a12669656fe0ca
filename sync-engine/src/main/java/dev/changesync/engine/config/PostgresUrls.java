package dev.changesync.engine.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * {@code postgres://user:password@host:port/database?sslmode=require} — the URL form of libpq,
 * Heroku, Render, Fly and most hosted PostgreSQL dashboards — as the JDBC URL the driver takes:
 * {@code jdbc:postgresql://host:port/database?sslmode=require&user=user&password=password}.
 */
public final class PostgresUrls {

  private PostgresUrls() {}

  /** True for {@code postgres://} and {@code postgresql://} URLs. */
  public static boolean isLibpqUrl(String value) {
    return value.startsWith("postgres://") || value.startsWith("postgresql://");
  }

  /**
   * The JDBC URL of a {@code postgres://} URL.
   *
   * @throws IllegalArgumentException when it is not a URL with a host (the message shows no
   *     password)
   */
  public static String toJdbc(String value) {
    URI uri;
    try {
      uri = new URI(value);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("is not a valid URL: " + e.getReason());
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException("has no host (postgres://USER:PASSWORD@HOST:PORT/DATABASE)");
    }
    StringBuilder jdbc = new StringBuilder("jdbc:postgresql://").append(uri.getRawAuthority()
        .substring(uri.getRawAuthority().lastIndexOf('@') + 1));
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    jdbc.append(path.isEmpty() ? "/" : path);
    StringBuilder query = new StringBuilder(uri.getRawQuery() == null ? "" : uri.getRawQuery());
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null && !userInfo.isEmpty()) {
      int colon = userInfo.indexOf(':');
      String user = colon < 0 ? userInfo : userInfo.substring(0, colon);
      if (!user.isEmpty()) {
        append(query, "user", decode(user));
      }
      if (colon >= 0) {
        append(query, "password", decode(userInfo.substring(colon + 1)));
      }
    }
    if (query.length() > 0) {
      jdbc.append('?').append(query);
    }
    return jdbc.toString();
  }

  private static void append(StringBuilder query, String name, String value) {
    if (query.length() > 0) {
      query.append('&');
    }
    query.append(name).append('=').append(URLEncoder.encode(value, StandardCharsets.UTF_8));
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }
}
