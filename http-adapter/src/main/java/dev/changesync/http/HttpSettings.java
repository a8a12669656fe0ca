package dev.changesync.http;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.config.Durations;
import dev.changesync.engine.config.Hosts;
import dev.changesync.engine.config.Setting;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Where the HTTP server listens and which {@code Host} names it answers (SPEC §6): the settings
 * only the server reads, declared here. {@link ChangesyncServer} reads the configuration with
 * {@link #SETTINGS}, so that {@code --http-port} is a known flag and a bad value is reported with
 * the others; a configuration read without them parses them from its environment on first use.
 *
 * @param host the address the server binds ({@code CHANGESYNC_HTTP_HOST})
 * @param port its port, 0 for any free one ({@code CHANGESYNC_HTTP_PORT})
 * @param allowedHosts the {@code Host} names answered besides the bind address, {@code localhost}
 *     and address literals; lower case, {@code *} for any, empty when unset ({@code
 *     CHANGESYNC_HTTP_ALLOWED_HOSTS})
 */
public record HttpSettings(String host, int port, List<String> allowedHosts) {

  private static final Pattern HOST_NAME =
      Pattern.compile("[a-z0-9_]([a-z0-9_.-]{0,251}[a-z0-9_])?");

  public static final Setting<String> HOST =
      Setting.of("HTTP_HOST", "127.0.0.1", "address the HTTP server binds", HttpSettings::host);

  public static final Setting<Integer> PORT =
      Setting.ofInteger("HTTP_PORT", "8080", 0, 65_535, "port of the HTTP server (0 picks a free one)");

  public static final Setting<List<String>> ALLOWED_HOSTS =
      Setting.of(
              "HTTP_ALLOWED_HOSTS",
              null,
              "comma-separated Host names the server answers besides its bind address, localhost"
                  + " and IPs",
              HttpSettings::allowedHosts)
          .printedAs(hosts -> String.join(",", hosts));

  /** The server's own settings, in the order of {@code --help}. */
  public static final List<Setting<?>> SETTINGS = List.of(HOST, PORT, ALLOWED_HOSTS);

  public HttpSettings {
    requireNonNull(host, "host");
    allowedHosts = List.copyOf(allowedHosts);
  }

  /** The HTTP settings of {@code config}. */
  public static HttpSettings from(ChangesyncConfig config) {
    return new HttpSettings(
        config.get(HOST), config.get(PORT), config.find(ALLOWED_HOSTS).orElse(List.of()));
  }

  private static String host(String value) {
    if (value.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
      throw new IllegalArgumentException(
          "'" + Durations.printable(value) + "' is not a host name or address");
    }
    return value;
  }

  private static List<String> allowedHosts(String value) {
    List<String> hosts = new ArrayList<>();
    List<String> bad = new ArrayList<>();
    for (String entry : value.split(",", -1)) {
      String host = Hosts.normalize(entry);
      if (host.equals("*") || Hosts.isAddress(host) || HOST_NAME.matcher(host).matches()) {
        hosts.add(host);
      } else {
        bad.add(
            "'"
                + Durations.printable(entry.strip())
                + "' is not a host name (comma-separated names or addresses, without scheme or"
                + " port; * for any)");
      }
    }
    if (!bad.isEmpty()) {
      throw new Setting.BadValues(bad);
    }
    return List.copyOf(hosts);
  }
}
