package dev.changesync.engine.config;

import com.google.common.net.HostAndPort;
import com.google.common.net.InetAddresses;
import java.util.Locale;
import java.util.Optional;

/**
 * Host names and address literals as the configuration and the HTTP server compare them: case
 * folded, IPv6 brackets and a trailing dot removed, never resolved through DNS.
 */
public final class Hosts {

  private Hosts() {}

  /** {@code host} in lower case, without IPv6 brackets or a trailing dot. */
  public static String normalize(String host) {
    String h = host.strip().toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.endsWith(".") && h.length() > 1) {
      h = h.substring(0, h.length() - 1);
    }
    return h;
  }

  /**
   * The host of an HTTP {@code Host} header ({@code name}, {@code name:port}, {@code 1.2.3.4:80},
   * {@code [::1]:8080}), {@link #normalize normalized}; empty when it is not one.
   */
  public static Optional<String> ofHostHeader(String value) {
    if (value == null || value.isBlank() || value.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
      return Optional.empty();
    }
    try {
      HostAndPort parsed = HostAndPort.fromString(value);
      String host = parsed.getHost();
      // A bare IPv6 address is not a Host header: it needs brackets.
      if (host.isEmpty() || (host.contains(":") && !value.startsWith("["))) {
        return Optional.empty();
      }
      return Optional.of(normalize(host));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** True for an IPv4 or IPv6 literal (with or without brackets). */
  public static boolean isAddress(String host) {
    return InetAddresses.isInetAddress(normalize(host));
  }

  /** True for {@code localhost} and loopback literals ({@code 127.0.0.0/8}, {@code ::1}). */
  public static boolean isLoopback(String host) {
    String h = normalize(host);
    if (h.equals("localhost")) {
      return true;
    }
    return InetAddresses.isInetAddress(h) && InetAddresses.forString(h).isLoopbackAddress();
  }

  /** True for the wildcard addresses that bind every interface: {@code 0.0.0.0} and {@code ::}. */
  public static boolean isWildcard(String host) {
    String h = normalize(host);
    return InetAddresses.isInetAddress(h) && InetAddresses.forString(h).isAnyLocalAddress();
  }
}
