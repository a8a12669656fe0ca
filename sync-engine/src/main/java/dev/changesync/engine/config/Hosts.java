package dev.changesync.engine.config;

import com.google.common.net.InetAddresses;
import java.util.Locale;

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
