package dev.changesync.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changesync.engine.Changesync;
import dev.changesync.engine.config.Secret;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.ApiJson;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.BadInputException;
import dev.changesync.engine.service.Inputs;
import dev.changesync.engine.service.NotConfiguredException;
import dev.changesync.engine.service.OverloadedException;
import dev.changesync.engine.service.PayloadTooLargeException;
import dev.changesync.engine.service.RepositoryCatalog;
import dev.changesync.engine.service.ServiceException;
import dev.changesync.engine.service.UnauthorizedException;
import dev.changesync.engine.service.UnavailableException;
import dev.changesync.engine.service.UnsupportedMediaTypeException;
import dev.changesync.engine.service.WebhookIntake;
import dev.changesync.engine.service.WebhookResult;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import io.javalin.router.Endpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API of SPEC §4 on Javalin: thin handlers that parse, call one engine service and map
 * the result; every failure becomes {@code {"message": "..."}} with its status in {@link
 * #errors(RoutesConfig) one place}.
 *
 * <p>Order of checks on a route: first {@link Access} (the {@code Host} header, 421; the read
 * token on reads, 401), then admin routes check the bearer token first (403 when no admin
 * token is configured, 401 when it is missing or wrong), then every route parses its path and query
 * parameters and body (400) before any service runs — nothing reaches SQL or GitHub with a bad
 * owner, repository or number. The webhook route refuses at once when no secret is configured
 * (403), then hands the body's stream and declared length to {@link WebhookIntake}, which checks
 * the length (413) and the signature header's shape (401) before reading a byte, streams the body
 * through the HMAC within its budget of bytes in flight (503 with {@code Retry-After} when full,
 * 413 past {@value WebhookIntake#MAX_BODY_BYTES} bytes), and verifies the signature before parsing
 * anything (401), then the content type (415). A method-override header is refused on every route
 * (400, see {@link MethodOverrideGuard}).
 */
final class HttpApi {

  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

  static final String API = "/v1/changes";

  /** What a 503 for a busy or unreachable database tells callers to wait. */
  static final Duration UNAVAILABLE_RETRY_AFTER = Duration.ofSeconds(1);

  /** Largest JSON body accepted on the admin routes. */
  static final int MAX_ADMIN_BODY_BYTES = 64 * 1024;

  private static final Set<String> METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

  private final Changesync changesync;
  private final Optional<Secret> adminToken;
  private final Access access;
  private final boolean apiRoutes;
  private final ServerMetrics metrics;
  private final ObjectMapper json = ApiJson.newMapper();
  private volatile String lastReadinessProblem; // null: ready (or never checked)

  /**
   * @param apiRoutes false for the worker role: only {@code /healthz}, {@code /readyz} and {@code
   *     /metrics}
   */
  HttpApi(
      Changesync changesync,
      Optional<Secret> adminToken,
      Access access,
      boolean apiRoutes,
      ServerMetrics metrics) {
    this.changesync = requireNonNull(changesync, "changesync");
    this.adminToken = requireNonNull(adminToken, "adminToken");
    this.access = requireNonNull(access, "access");
    this.apiRoutes = apiRoutes;
    this.metrics = requireNonNull(metrics, "metrics");
  }

  /** A Javalin server, not started, bound to {@code host:port} when started. */
  Javalin create(String host, int port, Duration drainFor) {
    return Javalin.create(cfg -> configure(cfg, host, port, drainFor));
  }

  private void configure(JavalinConfig cfg, String host, int port, Duration drainFor) {
    cfg.jetty.host = host;
    cfg.jetty.port = port;
    // Stop accepting at once on stop(), let requests in flight finish for up to drainFor: Jetty
    // waits for them only through a GracefulHandler (Javalin puts its servlet context inside it).
    cfg.jetty.modifyServer(
        server -> {
          server.setStopTimeout(drainFor.toMillis());
          server.setHandler(new GracefulHandler());
        });
    // What Jetty refuses before Javalin sees it (414, 431, unparseable requests) answers JSON too.
    cfg.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
    cfg.startup.showJavalinBanner = false;
    cfg.startup.showOldJavalinVersionWarning = false;
    cfg.startup.startupWatcherEnabled = false;
    // The webhook route reads its body itself with the 25 MB cap; nothing else reads more.
    cfg.http.maxRequestSize = WebhookIntake.MAX_BODY_BYTES;
    cfg.http.prefer405over404 = true;
    cfg.jsonMapper(new JavalinJackson(json, false));
    cfg.requestLogger.http(this::recordRequest);

    RoutesConfig routes = cfg.routes;
    access.register(routes); // Host check and read token, before every route
    routes.before(MethodOverrideGuard::check);
    routes.before(API + "/*", this::requireStarted);
    routes.before("/webhooks/*", this::requireStarted);
    routes.get("/healthz", this::health);
    routes.get("/readyz", this::ready);
    routes.get("/metrics", this::metrics);
    if (apiRoutes) {
      String repo = API + "/repos/{owner}/{repo}";
      routes.get(repo + "/status", this::repositoryStatus);
      routes.get(repo + "/pulls", this::openPulls);
      routes.get(repo + "/pulls/{number}/status", this::pullStatus);
      routes.get(repo + "/pulls/{number}", this::pullSnapshot);
      routes.get(repo + "/pulls/{number}/files", this::pullFiles);
      routes.get(API + "/leases", this::leases);
      routes.get(API + "/leases/events", this::leaseEvents);
      routes.get(API + "/workers", this::workers);
      routes.get(API + "/repos", this::repositories);
      routes.get(API + "/server", this::server);
      routes.delete(repo, this::untrack);
      routes.post(repo + "/backfill", this::configureBackfill);
      routes.post(repo + "/fetch", this::requestFetch);
      routes.post(API + "/installations/{installation_id}/track", this::trackInstallation);
      routes.post(API + "/recover", this::recover);
      routes.post(API + "/leases/release", this::releaseLease);
      routes.post("/webhooks/github", this::webhook);
      new Dashboard().register(routes);
    }
    errors(routes);
  }

  // ---------------------------------------------------------------------------------------------
  // Errors: the one place where failures become statuses
  // ---------------------------------------------------------------------------------------------

  private void errors(RoutesConfig routes) {
    routes.exception(
        ServiceException.class,
        (e, ctx) -> {
          if (e instanceof UnauthorizedException && ctx.attribute(ADMIN_ROUTE) != null) {
            ctx.header("WWW-Authenticate", "Bearer realm=\"changesync\"");
          }
          if (e instanceof OverloadedException overloaded) {
            ctx.header("Retry-After", Long.toString(Math.max(1, overloaded.retryAfter().toSeconds())));
            metrics.webhookOverloaded();
          }
          if (e instanceof UnavailableException) {
            // The cause names the database's host and port: for the log, not for callers.
            log.warn("{} {}: {}", ctx.method().name(), route(ctx), e.getMessage());
            ctx.header("Retry-After", Long.toString(UNAVAILABLE_RETRY_AFTER.toSeconds()));
            boolean busy = e.getMessage() != null && e.getMessage().startsWith("database busy");
            error(ctx, e.httpStatus(), busy ? "database busy: try again" : "database unavailable");
            return;
          }
          error(ctx, e.httpStatus(), e.getMessage());
        });
    // Javalin's own: unknown route (404), wrong method (405), body over the limit (413).
    routes.exception(
        HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
    routes.exception(
        Exception.class,
        (e, ctx) -> {
          // A request Jetty could not parse while a handler read it (a malformed chunk): 400.
          var badRequest = JsonErrorHandler.httpFailure(e);
          if (badRequest.isPresent()) {
            int status = badRequest.get().getCode();
            error(ctx, status, JsonErrorHandler.message(status, badRequest.get().getReason()));
            return;
          }
          log.error("{} {} failed", ctx.method().name(), route(ctx), e);
          error(ctx, 500, "internal server error");
        });
  }

  private static void error(Context ctx, int status, String message) {
    Map<String, String> body = new LinkedHashMap<>();
    body.put("message", message == null || message.isBlank() ? "error " + status : message);
    ctx.status(status).json(body);
  }

  // ---------------------------------------------------------------------------------------------
  // Health and metrics
  // ---------------------------------------------------------------------------------------------

  /** The API answers once the engine has started (the port is bound before the database check). */
  private void requireStarted(Context ctx) {
    if (!changesync.isStarted()) {
      ctx.header("Retry-After", "1");
      throw new io.javalin.http.ServiceUnavailableResponse("not serving: starting up or shutting down");
    }
  }

  private void health(Context ctx) {
    ctx.json(Map.of("status", "ok"));
  }

  private void ready(Context ctx) {
    Changesync.Readiness readiness = changesync.readiness();
    Optional<String> problem = readiness.ready() ? Optional.empty() : readiness.problem();
    String previous = lastReadinessProblem;
    if (!Objects.equals(previous, problem.orElse(null))) {
      lastReadinessProblem = problem.orElse(null);
      if (problem.isPresent()) {
        log.warn("not ready: {}", problem.get());
      } else {
        log.info("ready again");
      }
    }
    Map<String, Object> body = new LinkedHashMap<>();
    if (readiness.ready()) {
      body.put("status", "ready");
    } else if (!readiness.databaseReachable()) {
      // The details (host, port, driver message) go to the log, not to callers.
      body.put("message", "database unreachable");
      body.put("status", "not_ready");
    } else {
      body.put("message", problem.orElse("not ready"));
      body.put("status", "not_ready");
    }
    body.put("database_reachable", readiness.databaseReachable());
    body.put("schema_current", readiness.schemaCurrent());
    ctx.status(readiness.ready() ? 200 : 503).json(body);
  }

  private void metrics(Context ctx) {
    ctx.contentType(ServerMetrics.CONTENT_TYPE).result(metrics.scrape());
  }

  private void recordRequest(Context ctx, Float millis) {
    String method = ctx.req().getMethod().toUpperCase(Locale.ROOT); // not an override header
    long nanos = millis == null ? 0 : (long) (millis.doubleValue() * 1_000_000);
    metrics.httpRequest(
        METHODS.contains(method) ? method : "OTHER",
        route(ctx),
        ctx.statusCode(),
        Duration.ofNanos(nanos));
  }

  /** The matched route template, or {@code unmatched}: never the raw path (unbounded). */
  private static String route(Context ctx) {
    Endpoint endpoint = ctx.endpoints().lastHttpEndpoint();
    return endpoint == null || endpoint.path.isEmpty() ? "unmatched" : endpoint.path;
  }

  // ---------------------------------------------------------------------------------------------
  // Reads
  // ---------------------------------------------------------------------------------------------

  private void repositoryStatus(Context ctx) {
    RepoName name = repoName(ctx);
    ctx.json(changesync.status().repositoryStatus(name));
  }

  private void pullStatus(Context ctx) {
    RepoName name = repoName(ctx);
    int number = pullNumber(ctx);
    ctx.json(changesync.status().pullStatus(name, number));
  }

  private void pullSnapshot(Context ctx) {
    RepoName name = repoName(ctx);
    int number = pullNumber(ctx);
    ctx.json(changesync.status().pullSnapshot(name, number));
  }

  private void pullFiles(Context ctx) {
    RepoName name = repoName(ctx);
    int number = pullNumber(ctx);
    ctx.json(changesync.status().pullFiles(name, number));
  }

  private void openPulls(Context ctx) {
    RepoName name = repoName(ctx);
    int limit = RepositoryCatalog.limit(ctx.queryParam("limit"));
    ctx.json(changesync.status().openPulls(name, limit));
  }

  /** What this server offers a client such as the dashboard: which tokens it knows, its version. */
  private void server(Context ctx) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("version", ChangesyncServer.version());
    body.put("owner_id", changesync.owner().toString());
    body.put("runs_workers", changesync.worker().isPresent());
    body.put("admin_token_configured", adminToken.isPresent());
    body.put("read_token_configured", access.readTokenConfigured());
    ctx.json(body);
  }

  private void leases(Context ctx) {
    boolean staleOnly = flag(ctx, "stale");
    ctx.json(changesync.leases().leases(staleOnly));
  }

  private void leaseEvents(Context ctx) {
    Optional<String> resource = Optional.ofNullable(ctx.queryParam("resource"));
    int limit = Inputs.eventLimit(ctx.queryParam("limit"));
    ctx.json(Map.of("events", changesync.leases().events(resource, limit)));
  }

  private void workers(Context ctx) {
    ctx.json(changesync.leases().workers());
  }

  private void repositories(Context ctx) {
    int limit = RepositoryCatalog.limit(ctx.queryParam("limit"));
    String after = ctx.queryParam("after");
    Optional<RepoName> from =
        after == null || after.isBlank() ? Optional.empty() : Optional.of(Inputs.repoName(after));
    ctx.json(changesync.repositories().list(limit, from));
  }

  // ---------------------------------------------------------------------------------------------
  // Admin
  // ---------------------------------------------------------------------------------------------

  private static final String ADMIN_ROUTE = "changesync.admin-route";

  /**
   * Checks {@code Authorization: Bearer <token>}: 403 when no admin token is configured, 401 when
   * the header is missing, malformed or carries another token (compared in constant time).
   */
  private void requireAdmin(Context ctx) {
    ctx.attribute(ADMIN_ROUTE, Boolean.TRUE);
    Secret token =
        adminToken.orElseThrow(
            () ->
                new NotConfiguredException(
                    "admin routes are off: no admin token is configured (CHANGESYNC_ADMIN_TOKEN)"));
    String header = ctx.header("Authorization");
    if (header == null || header.isBlank()) {
      throw new UnauthorizedException("missing Authorization header: Bearer <admin token>");
    }
    String[] parts = header.strip().split("\\s+", 2);
    if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer")) {
      throw new UnauthorizedException("Authorization header must be: Bearer <admin token>");
    }
    if (!token.matches(parts[1].strip())) {
      throw new UnauthorizedException("invalid admin token");
    }
  }

  private void configureBackfill(Context ctx) {
    requireAdmin(ctx);
    RepoName name = repoName(ctx);
    Backfill backfill = backfill(jsonBody(ctx));
    ctx.json(changesync.admin().configureBackfill(name, backfill.mode(), backfill.priority()));
  }

  /** A backfill request body's mode (default open_only) and priority (default 0). */
  private record Backfill(BackfillMode mode, int priority) {}

  private static Backfill backfill(JsonNode body) {
    BackfillMode mode = BackfillMode.OPEN_ONLY;
    JsonNode modeNode = body.path("mode");
    if (!modeNode.isMissingNode() && !modeNode.isNull()) {
      if (!modeNode.isTextual()) {
        throw new BadInputException("mode must be a string: off or open_only");
      }
      mode = BackfillMode.parse(modeNode.textValue());
    }
    int priority = 0;
    JsonNode priorityNode = body.path("priority");
    if (!priorityNode.isMissingNode() && !priorityNode.isNull()) {
      if (!priorityNode.isIntegralNumber() || !priorityNode.canConvertToInt()) {
        throw new BadInputException("priority must be a whole number");
      }
      priority = priorityNode.intValue();
    }
    return new Backfill(mode, priority);
  }

  private void trackInstallation(Context ctx) {
    requireAdmin(ctx);
    String raw = ctx.pathParam("installation_id");
    long id;
    try {
      id = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      id = 0;
    }
    if (id <= 0 || !raw.matches("[0-9]{1,18}")) {
      throw new BadInputException(
          "installation id must be a positive whole number, was '" + printable(raw) + "'");
    }
    Backfill backfill = backfill(jsonBody(ctx));
    ctx.json(changesync.admin().trackInstallation(id, backfill.mode(), backfill.priority()));
  }

  private void untrack(Context ctx) {
    requireAdmin(ctx);
    RepoName name = repoName(ctx);
    String actor = "http-admin@" + ctx.ip();
    String given = ctx.queryParam("actor");
    if (given != null) {
      if (given.isBlank() || given.length() > 200) {
        throw new BadInputException("actor must be a string of 1-200 characters");
      }
      actor = given.strip();
    }
    ctx.json(changesync.admin().untrack(name, actor));
  }

  private void requestFetch(Context ctx) {
    requireAdmin(ctx);
    RepoName name = repoName(ctx);
    ctx.status(202).json(changesync.admin().requestFetch(name));
  }

  private void recover(Context ctx) {
    requireAdmin(ctx);
    ctx.json(changesync.leases().recover());
  }

  private void releaseLease(Context ctx) {
    requireAdmin(ctx);
    JsonNode body = jsonBody(ctx);
    String resource = requiredText(body, "resource");
    String lane = requiredText(body, "lane");
    String actor = "http-admin@" + ctx.ip();
    JsonNode actorNode = body.path("actor");
    if (!actorNode.isMissingNode() && !actorNode.isNull()) {
      if (!actorNode.isTextual()
          || actorNode.textValue().isBlank()
          || actorNode.textValue().length() > 200) {
        throw new BadInputException("actor must be a string of 1-200 characters");
      }
      actor = actorNode.textValue().strip();
    }
    ctx.json(changesync.leases().release(resource, lane, actor));
  }

  // ---------------------------------------------------------------------------------------------
  // Webhooks
  // ---------------------------------------------------------------------------------------------

  private void webhook(Context ctx) {
    WebhookIntake intake = changesync.webhooks();
    if (!intake.enabled()) {
      throw new NotConfiguredException(
          "webhook intake is off: no webhook secret is configured (CHANGESYNC_WEBHOOK_SECRET)");
    }
    long declared = ctx.req().getContentLengthLong();
    Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.putAll(ctx.headerMap());
    InputStream body;
    try {
      body = ctx.req().getInputStream();
    } catch (IOException e) {
      throw new UncheckedIOException("reading the request body failed", e);
    }
    WebhookResult result;
    try {
      result =
          intake.receive(
              headers, declared >= 0 ? OptionalLong.of(declared) : OptionalLong.empty(), body);
    } catch (PayloadTooLargeException e) {
      discardBody(ctx, body, declared);
      throw e;
    }
    ctx.status(result.outcome() == WebhookResult.Outcome.ACCEPTED ? 202 : 200).json(result);
  }

  /** Most bytes of an oversized webhook body read and dropped so that its sender gets the 413. */
  static final long MAX_DISCARDED_BODY_BYTES = 64L * 1024 * 1024;

  /**
   * Reads and drops what is left of an oversized body (at most {@value #MAX_DISCARDED_BODY_BYTES}
   * bytes in all, never more than one small buffer in memory), so that a client that writes its
   * whole body before reading still reads the 413: closing with unread bytes resets the connection,
   * and the reset discards the answer on the client's side. A body declared larger than that, or
   * one whose sender waits for {@code 100 Continue}, is not read: the connection is closed after
   * the answer.
   */
  private static void discardBody(Context ctx, InputStream body, long declared) {
    String expect = ctx.header("Expect");
    if (declared > MAX_DISCARDED_BODY_BYTES
        || (expect != null && expect.toLowerCase(Locale.ROOT).contains("100-continue"))) {
      return;
    }
    byte[] buffer = new byte[64 * 1024];
    long left = MAX_DISCARDED_BODY_BYTES;
    try {
      for (int n; left > 0 && (n = body.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0; ) {
        left -= n;
      }
    } catch (IOException e) {
      // The client went away or stalled past the idle timeout: nobody is left to read the 413.
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Parsing
  // ---------------------------------------------------------------------------------------------

  private static RepoName repoName(Context ctx) {
    return Inputs.repoName(ctx.pathParam("owner"), ctx.pathParam("repo"));
  }

  private static int pullNumber(Context ctx) {
    return Inputs.pullNumber(ctx.pathParam("number"));
  }

  private static boolean flag(Context ctx, String name) {
    String value = ctx.queryParam(name);
    if (value == null || value.isBlank()) {
      return false;
    }
    switch (value.strip().toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes":
        return true;
      case "false", "0", "no":
        return false;
      default:
        throw new BadInputException(
            "invalid " + name + " '" + printable(value) + "': true or false");
    }
  }

  /**
   * The request body as a JSON object: an empty body is {@code {}}; a content type other than
   * JSON is a 415, a body over {@value #MAX_ADMIN_BODY_BYTES} bytes a 413, anything but a JSON
   * object a 400.
   */
  private JsonNode jsonBody(Context ctx) {
    String contentType = ctx.contentType();
    if (contentType != null && !contentType.isBlank()) {
      String mediaType = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
      if (!mediaType.equals("application/json") && !mediaType.endsWith("+json")) {
        throw new UnsupportedMediaTypeException(
            "content type " + printable(mediaType) + " is not supported: send application/json");
      }
    }
    long declared = ctx.req().getContentLengthLong();
    if (declared > MAX_ADMIN_BODY_BYTES) {
      throw adminBodyTooLarge();
    }
    byte[] bytes = readBody(ctx, MAX_ADMIN_BODY_BYTES);
    if (bytes.length == 0) {
      return json.createObjectNode();
    }
    JsonNode node;
    try {
      node = json.readTree(bytes);
    } catch (JacksonException e) {
      throw new BadInputException("body is not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (node == null || node.isMissingNode()) {
      return json.createObjectNode();
    }
    if (!node.isObject()) {
      throw new BadInputException("body must be a JSON object");
    }
    return node;
  }

  private static PayloadTooLargeException adminBodyTooLarge() {
    return new PayloadTooLargeException(
        "body is over the limit of " + MAX_ADMIN_BODY_BYTES + " bytes");
  }

  private static String requiredText(JsonNode body, String field) {
    JsonNode node = body.path(field);
    if (!node.isTextual() || node.textValue().isBlank()) {
      throw new BadInputException("body needs \"" + field + "\": a non-empty string");
    }
    return node.textValue();
  }

  /**
   * Reads the raw body, at most {@code limit} bytes: one byte more is a 413 (for bodies sent
   * without a {@code Content-Length}, such as chunked ones).
   */
  private static byte[] readBody(Context ctx, long limit) {
    try (InputStream in = ctx.req().getInputStream()) {
      byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
      if (bytes.length > limit) {
        throw adminBodyTooLarge();
      }
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException("reading the request body failed", e);
    }
  }

  private static String printable(String s) {
    String cut = s.length() > 120 ? s.substring(0, 120) + "…" : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
