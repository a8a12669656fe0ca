package dev.changesync.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.ApiJson;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.BadInputException;
import dev.changesync.engine.service.LeaseEvent;
import dev.changesync.engine.service.LeaseList;
import dev.changesync.engine.service.NotFoundException;
import dev.changesync.engine.service.PullFiles;
import dev.changesync.engine.service.PullStatus;
import dev.changesync.engine.service.RecoveryResult;
import dev.changesync.engine.service.ReleasedLease;
import dev.changesync.engine.service.RepositoryList;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.engine.service.UntrackedRepository;
import dev.changesync.engine.service.InstallationTracking;
import dev.changesync.engine.service.WorkerList;
import dev.changesync.lease.LeaseState;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The commands' answers from a running server's HTTP API (SPEC §4). Reads send {@code
 * Authorization: Bearer <CHANGESYNC_READ_TOKEN>} when it is set; admin actions send {@code
 * Authorization: Bearer <CHANGESYNC_ADMIN_TOKEN>}, and the admin token goes with nothing else. The server's JSON
 * body is kept as the answer's JSON and read into the same records the services return, with
 * {@link ApiJson}. The server's {@code {"message": ...}} errors become the same exceptions the
 * services throw (400 bad input, 404 not found) or a one-line {@link CliException}.
 */
final class HttpBackend implements Backend {

  /** Longest wait for a TCP connection (within the request timeout). */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  private static final String API = "/v1/changes";

  private final URI base;
  private final Optional<String> adminToken;
  private final Optional<String> readToken;
  private final HttpClient client;
  private final Duration requestTimeout;
  private final ObjectMapper mapper = ApiJson.newMapper();

  /**
   * @param base the server's URL, without a trailing slash; may carry a path prefix
   * @param adminToken sent on admin actions; without one they fail before any request is made
   * @param readToken sent on reads; without one reads go unauthenticated
   */
  HttpBackend(
      URI base, Optional<String> adminToken, Optional<String> readToken, Duration requestTimeout) {
    this.base = base;
    this.adminToken = adminToken;
    this.readToken = readToken;
    this.requestTimeout = requestTimeout;
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(
                requestTimeout.compareTo(CONNECT_TIMEOUT) < 0 ? requestTimeout : CONNECT_TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  @Override
  public Answer<RepositoryStatus> repositoryStatus(RepoName name) {
    return get(repo(name) + "/status", RepositoryStatus.class);
  }

  @Override
  public Answer<PullStatus> pullStatus(RepoName name, int number) {
    return get(repo(name) + "/pulls/" + number + "/status", PullStatus.class);
  }

  @Override
  public Answer<PullFiles> pullFiles(RepoName name, int number) {
    return get(repo(name) + "/pulls/" + number + "/files", PullFiles.class);
  }

  @Override
  public Answer<LeaseList> leases(boolean staleOnly) {
    Answer<LeaseList> all = get(API + "/leases" + (staleOnly ? "?stale=true" : ""), LeaseList.class);
    if (!staleOnly) {
      return all;
    }
    // The API lists held and stale leases; keep the stale ones whether or not it filtered.
    List<LeaseList.Entry> stale =
        all.value().leases().stream().filter(l -> l.state() == LeaseState.STALE).toList();
    if (stale.size() == all.value().leases().size()) {
      return all;
    }
    LeaseList filtered = new LeaseList(all.value().now(), stale);
    return new Answer<>(filtered, write(filtered));
  }

  @Override
  public Answer<List<LeaseEvent>> events(Optional<String> resource, int limit) {
    String query =
        resource.map(r -> "resource=" + URLEncoder.encode(r, StandardCharsets.UTF_8) + "&").orElse("")
            + "limit="
            + limit;
    Answer<Map<String, List<LeaseEvent>>> events =
        get(
            API + "/leases/events?" + query,
            mapper
                .getTypeFactory()
                .constructType(new TypeReference<Map<String, List<LeaseEvent>>>() {}));
    List<LeaseEvent> list = events.value().get("events");
    if (list == null) {
      throw new CliException("unexpected answer from " + base + ": no \"events\" in it");
    }
    return new Answer<>(list, events.json());
  }

  @Override
  public Answer<WorkerList> workers() {
    return get(API + "/workers", WorkerList.class);
  }

  @Override
  public Answer<ReleasedLease> release(String resource, String lane, String actor) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("resource", resource);
    body.put("lane", lane);
    body.put("actor", actor);
    return post(API + "/leases/release", body, ReleasedLease.class);
  }

  @Override
  public Answer<RecoveryResult> recover() {
    return post(API + "/recover", null, RecoveryResult.class);
  }

  @Override
  public Answer<RepositoryStatus> configureBackfill(
      RepoName name, BackfillMode mode, int priority) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("mode", mode.value());
    body.put("priority", priority);
    return post(repo(name) + "/backfill", body, RepositoryStatus.class);
  }

  @Override
  public Answer<InstallationTracking.TrackedInstallation> trackInstallation(
      long installationId, BackfillMode mode, int priority) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("mode", mode.value());
    body.put("priority", priority);
    return post(
        API + "/installations/" + installationId + "/track",
        body,
        InstallationTracking.TrackedInstallation.class);
  }

  @Override
  public Answer<RepositoryStatus> requestFetch(RepoName name) {
    return post(repo(name) + "/fetch", null, RepositoryStatus.class);
  }

  @Override
  public Answer<RepositoryList> repositories(int limit, Optional<RepoName> after) {
    return get(
        API
            + "/repos?limit="
            + limit
            + after
                .map(a -> "&after=" + URLEncoder.encode(a.fullName(), StandardCharsets.UTF_8))
                .orElse(""),
        RepositoryList.class);
  }

  @Override
  public Answer<UntrackedRepository> untrack(RepoName name, String actor) {
    return send(
        repo(name) + "?actor=" + URLEncoder.encode(actor, StandardCharsets.UTF_8),
        "DELETE",
        null,
        UntrackedRepository.class);
  }

  @Override
  public String describe() {
    return base.toString();
  }

  @Override
  public void close() {
    // The JDK client's threads are daemons and end with it.
  }

  // ---------------------------------------------------------------------------------------------

  private static String repo(RepoName name) {
    return API
        + "/repos/"
        + URLEncoder.encode(name.owner(), StandardCharsets.UTF_8)
        + "/"
        + URLEncoder.encode(name.name(), StandardCharsets.UTF_8);
  }

  private <T> Answer<T> get(String path, Class<T> type) {
    return get(path, mapper.getTypeFactory().constructType(type));
  }

  private <T> Answer<T> get(String path, JavaType type) {
    HttpRequest.Builder request = request(path).GET();
    readToken.ifPresent(t -> request.header("Authorization", "Bearer " + t));
    return read(send(request.build()), type);
  }

  private <T> Answer<T> post(String path, Object body, Class<T> type) {
    return send(path, "POST", body, type);
  }

  private <T> Answer<T> send(String path, String method, Object body, Class<T> type) {
    String token =
        adminToken.orElseThrow(
            () ->
                new CliException(
                    "CHANGESYNC_ADMIN_TOKEN is not set: the server's admin actions need its admin"
                        + " token (or use --database-url to act on the database directly)",
                    ExitCodes.USAGE));
    HttpRequest.Builder request =
        request(path).header("Authorization", "Bearer " + token);
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request
          .header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(write(body), StandardCharsets.UTF_8));
    }
    return read(send(request.build()), mapper.getTypeFactory().constructType(type));
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(base + path))
        .timeout(requestTimeout)
        .header("Accept", "application/json")
        .header("User-Agent", "changesync-cli");
  }

  private HttpResponse<String> send(HttpRequest request) {
    try {
      return client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (HttpConnectTimeoutException e) {
      throw unreachable(e);
    } catch (HttpTimeoutException e) {
      throw new CliException(
          "the server at "
              + base
              + " did not answer within "
              + Times.span(requestTimeout)
              + " (--timeout)",
          1,
          e);
    } catch (IOException e) {
      if (isConnectFailure(e)) {
        throw unreachable(e);
      }
      throw new CliException(
          "talking to the server at " + base + " failed: " + DatabaseBackend.rootMessage(e), 1, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted", 1, e);
    }
  }

  private CliException unreachable(Exception e) {
    return new CliException(unreachableMessage(base), 1, e);
  }

  /** The one line an unreachable server gets. */
  static String unreachableMessage(URI base) {
    return "server not reachable at "
        + base
        + " — is it running? use --database-url to read the database directly";
  }

  private static boolean isConnectFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ConnectException || t instanceof UnresolvedAddressException) {
        return true;
      }
    }
    return false;
  }

  private <T> Answer<T> read(HttpResponse<String> response, JavaType type) {
    int status = response.statusCode();
    String body = response.body() == null ? "" : response.body().strip();
    if (status / 100 != 2) {
      throw failure(response.request(), status, body);
    }
    try {
      T value = mapper.readValue(body, type);
      if (value == null) {
        throw new CliException(unexpected(response, "an empty body"));
      }
      return new Answer<>(value, body);
    } catch (JsonProcessingException e) {
      throw new CliException(unexpected(response, "not changesync's JSON"), 1, e);
    }
  }

  private String unexpected(HttpResponse<String> response, String what) {
    return "unexpected answer from "
        + response.request().uri()
        + " (HTTP "
        + response.statusCode()
        + ", "
        + response.headers().firstValue("Content-Type").orElse("no content type")
        + "): "
        + what
        + " — is "
        + base
        + " a changesync server?";
  }

  private RuntimeException failure(HttpRequest request, int status, String body) {
    String message = message(body).orElse("HTTP " + status);
    return switch (status) {
      case 400 -> new BadInputException(message);
      case 404 -> new NotFoundException(message);
      case 401 ->
          request.method().equals("GET")
              ? new CliException(
                  "the server at " + base + " refused to let us read: " + message
                      + " (set CHANGESYNC_READ_TOKEN to the server's read or admin token)")
              : new CliException(
                  "the server at " + base + " refused the admin token: " + message
                      + " (check CHANGESYNC_ADMIN_TOKEN)");
      case 403 ->
          new CliException(
              "the server at " + base + " refused: " + message
                  + " (is CHANGESYNC_ADMIN_TOKEN configured on the server?)");
      case 503 -> new CliException("the server at " + base + " is not available: " + message);
      case 502 -> new CliException("the server at " + base + " could not ask GitHub: " + message);
      default ->
          new CliException(
              "the server at " + base + " answered HTTP " + status + " to "
                  + request.method() + " " + request.uri().getRawPath() + ": " + message);
    };
  }

  /** The {@code message} of an API error body, when it is one. */
  private Optional<String> message(String body) {
    if (body.isEmpty()) {
      return Optional.empty();
    }
    try {
      JsonNode node = mapper.readTree(body);
      if (node != null && node.path("message").isTextual()) {
        return Optional.of(node.get("message").asText());
      }
    } catch (JsonProcessingException e) {
      // not JSON: fall through
    }
    String oneLine = body.replaceAll("\\s+", " ");
    return Optional.of(oneLine.length() > 200 ? oneLine.substring(0, 200) + "…" : oneLine);
  }

  private String write(Object value) {
    try {
      return mapper.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + value.getClass().getSimpleName(), e);
    }
  }
}
