package dev.changesync.http;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.config.Hosts;
import dev.changesync.engine.config.Secret;
import dev.changesync.engine.service.BadInputException;
import dev.changesync.engine.service.UnauthorizedException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Who may use the API, checked before any route runs (a Javalin before-handler on every request).
 *
 * <p><b>The {@code Host} header</b> (every route, probes and webhooks included) guards against DNS
 * rebinding: a web page whose name the attacker re-points at 127.0.0.1 makes the victim's browser
 * send requests with {@code Host: evil.example} to a server on loopback. The server answers only
 * to the names it is known by — its bind address, {@code localhost} and {@code
 * CHANGESYNC_HTTP_ALLOWED_HOSTS} — and to any IP address literal (a browser sends an address as
 * {@code Host} only when the page itself came from that address, so no rebinding is possible, and
 * Kubernetes probes and Prometheus address pods by IP). Anything else is a 421 Misdirected
 * Request. Names are compared without case, port or IPv6 brackets. A request without a {@code
 * Host} (HTTP/1.0; browsers always send one) passes; one that is not a host is a 400.
 *
 * <p>When the server binds every interface ({@code 0.0.0.0} or {@code ::}) without an allow-list,
 * it is reached under names it cannot know (a load balancer's, a proxy's public name that GitHub's
 * webhooks carry), so it accepts any {@code Host} — as before — and {@link ChangesyncServer} warns
 * at start-up. An allow-list of {@code *} accepts any {@code Host} on purpose, without the warning.
 *
 * <p><b>The read token</b> ({@code CHANGESYNC_READ_TOKEN}), when configured, is required on every
 * {@code GET} under {@value HttpApi#API} as {@code Authorization: Bearer <token>}; the admin token
 * is accepted too. Both are compared in constant time. Missing or wrong: 401 with {@code
 * WWW-Authenticate: Bearer}. {@code /healthz}, {@code /readyz} and {@code /metrics} stay open for
 * probes and scrapers. Without a read token, reads are open.
 */
final class Access {

  private final Optional<Secret> readToken;
  private final Optional<Secret> adminToken;
  private final boolean anyHost;
  private final Set<String> hosts;

  /**
   * @param bindHost {@code CHANGESYNC_HTTP_HOST}
   * @param allowedHosts {@code CHANGESYNC_HTTP_ALLOWED_HOSTS}, normalized ({@code *}: any)
   */
  Access(
      Optional<Secret> readToken,
      Optional<Secret> adminToken,
      String bindHost,
      List<String> allowedHosts) {
    this.readToken = requireNonNull(readToken, "readToken");
    this.adminToken = requireNonNull(adminToken, "adminToken");
    this.anyHost =
        allowedHosts.contains("*") || (allowedHosts.isEmpty() && Hosts.isWildcard(bindHost));
    Set<String> names = new LinkedHashSet<>(allowedHosts);
    names.add("localhost");
    names.add(Hosts.normalize(bindHost));
    this.hosts = Set.copyOf(names);
  }

  /** Whether any {@code Host} is accepted: a wildcard bind without an allow-list, or {@code *}. */
  boolean acceptsAnyHost() {
    return anyHost;
  }

  /** Whether reads under {@value HttpApi#API} need a token. */
  boolean readTokenConfigured() {
    return readToken.isPresent();
  }

  void register(RoutesConfig routes) {
    routes.before(this::check);
  }

  private void check(Context ctx) {
    checkHost(ctx);
    if (readToken.isPresent() && isRead(ctx)) {
      checkReadToken(ctx);
    }
  }

  private void checkHost(Context ctx) {
    if (anyHost) {
      return;
    }
    String header = ctx.header("Host");
    if (header == null) {
      return;
    }
    Optional<String> host = Hosts.ofHostHeader(header);
    if (host.isEmpty()) {
      throw new BadInputException("Host header '" + printable(header) + "' is not a host");
    }
    if (!Hosts.isAddress(host.get()) && !hosts.contains(host.get())) {
      throw new HttpResponseException(
          HttpStatus.MISDIRECTED_REQUEST.getCode(),
          "this server does not answer to host '"
              + printable(host.get())
              + "': add it to CHANGESYNC_HTTP_ALLOWED_HOSTS if it is a name of this server");
    }
  }

  private static boolean isRead(Context ctx) {
    HandlerType method = ctx.method();
    if (!method.equals(HandlerType.GET) && !method.equals(HandlerType.HEAD)) {
      return false;
    }
    String path = ctx.path();
    return path.equals(HttpApi.API) || path.startsWith(HttpApi.API + "/");
  }

  private void checkReadToken(Context ctx) {
    String header = ctx.header("Authorization");
    if (header == null || header.isBlank()) {
      throw unauthorized(ctx, "missing Authorization header: Bearer <read token>");
    }
    String[] parts = header.strip().split("\\s+", 2);
    if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer")) {
      throw unauthorized(ctx, "Authorization header must be: Bearer <read token>");
    }
    String presented = parts[1].strip();
    // Both compared, whatever the first says: the time taken tells nothing.
    boolean read = readToken.get().matches(presented);
    boolean admin = adminToken.isPresent() && adminToken.get().matches(presented);
    if (!read && !admin) {
      throw unauthorized(ctx, "invalid read token");
    }
  }

  private static UnauthorizedException unauthorized(Context ctx, String message) {
    ctx.header("WWW-Authenticate", "Bearer realm=\"changesync\"");
    return new UnauthorizedException(message);
  }

  private static String printable(String s) {
    String cut = s.length() > 120 ? s.substring(0, 120) + "…" : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
