package dev.changesync.testkit.github;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake GitHub REST API on a real HTTP server ({@code 127.0.0.1}, a free port), for tests of
 * anything that talks to GitHub over HTTP. Point a client at {@link #baseUrl()} as its API base URL
 * (like {@code https://api.github.com} or {@code https://HOST/api/v3}).
 *
 * <h2>What it serves, in GitHub's JSON shapes</h2>
 *
 * <ul>
 *   <li>{@code GET /repos/{owner}/{repo}} — the repository.
 *   <li>{@code GET /repos/{owner}/{repo}/pulls?state=open&per_page=N&page=K} — pull request list
 *       items, newest (highest number) first, {@code per_page} 1–100 (default 30).
 *   <li>{@code GET /repos/{owner}/{repo}/pulls/{number}} — one pull request in full.
 *   <li>{@code GET /repos/{owner}/{repo}/pulls/{number}/files?per_page=N&page=K} — its files, at
 *       most 3,000 (as GitHub), whatever {@code changed_files} says.
 *   <li>{@code GET /repos/{owner}/{repo}/compare/{base}...{head}?per_page=N&page=K} — two commits
 *       compared ({@link FakeCompare}): {@code merge_base_commit}, status, ahead/behind counts,
 *       commits, files. Base is a branch or any SHA a branch had; head is a pull request's head
 *       branch or any head SHA it had (its merge base: see {@link FakePr}); else 404.
 *   <li>the same under {@code /repositories/{id}/...}, which is where its {@code Link} headers
 *       point (as GitHub's do), so a client that builds page URLs by hand instead of following
 *       {@code rel="next"} is caught out.
 *   <li>{@code POST /app/installations/{id}/access_tokens} — with an RS256 JWT from a {@link
 *       #registerApp registered app}, an installation token that then works like a token.
 *   <li>{@code GET /repos/{owner}/{repo}/installation} and {@code GET /app/installations}
 *       (paginated) — with an app's JWT, the installations made with {@link #install}; {@code GET
 *       /installation/repositories} (paginated) — with such an installation's token, the
 *       repositories it sees. Such a token sees only its account's repositories (others answer
 *       404, as on GitHub) and has its own rate-limit budget ({@link FakeInstallation}).
 * </ul>
 *
 * <p>Owner and repository names match case-insensitively. Every 200 carries a strong {@code ETag}
 * (a hash of the body); a request whose {@code If-None-Match} matches gets a 304 without a body,
 * which does not count against the rate limit. Every authenticated response carries {@code
 * x-ratelimit-limit / -remaining / -used / -reset / -resource}; {@code remaining} drops by one per
 * counted request (every authenticated request that is not a 304 and not refused for the rate
 * limit) and, at zero, requests are refused with 403 "API rate limit exceeded" until the reset time
 * (by the fake's clock) passes. The window is an hour from the first request. Requests need {@code
 * Authorization: Bearer TOKEN} or {@code token TOKEN} with a configured token or a live
 * installation token; anything else gets 401 "Bad credentials". The rate limit is one budget for
 * all credentials but the tokens of {@linkplain #install installations}, which have their own.
 *
 * <h2>Switches</h2>
 *
 * {@link #latency}, {@link #failNext} (5xx bursts), {@link #secondaryLimitNext} (403/429 with or
 * without {@code retry-after}), {@link #exhaustRateLimit()} / {@link #setRateLimit}, {@link
 * #malformedJson}, {@link #notFound}, {@link #failPath} (one path's error status). Injected
 * faults ({@link #failNext}, {@link #secondaryLimitNext}) answer before authentication and are not
 * counted against the rate limit.
 *
 * <h2>Counters</h2>
 *
 * {@link #requests(RequestKind, int)}, {@link #requests(RequestKind)}, {@link #totalRequests()},
 * {@link #rateLimitedRequests()} and the {@link #requestLog()}; {@link #resetCounters()} zeroes
 * them.
 *
 * <h2>State</h2>
 *
 * {@link #createRepo} returns a {@link FakeRepo}; it opens pull requests ({@link FakeRepo#openPr},
 * {@link FakeRepo#openPrs}), and a {@link FakePr} can be pushed to, rebased, closed, merged,
 * reopened, have its base moved and its draft flag set. Contents are generated deterministically
 * from the {@linkplain Builder#seed seed}. Timestamps come from the fake's clock ({@link
 * Builder#clock}), so a test that controls time controls {@code updated_at}, token expiry and the
 * rate-limit reset.
 *
 * <p>Thread-safe: state and counters are guarded by one lock; requests are served on a small pool.
 *
 * <p>Loading this class sets {@code sun.net.httpserver.nodelay=true} unless it is set already:
 * without it every response of the JDK's HTTP server waits ~40 ms for a delayed ACK. The JDK reads
 * it when the first {@code HttpServer} of the JVM is created, so a JVM that started one before
 * touching {@code FakeGitHub} keeps the slow setting.
 */
public final class FakeGitHub implements AutoCloseable {

  /** The token a fake accepts when the builder names none. */
  public static final String DEFAULT_TOKEN = "ghp_fake0000000000000000000000000000token";

  /** The default hourly request budget (GitHub's for a personal token). */
  public static final int DEFAULT_RATE_LIMIT = 5_000;

  private static final int MAX_LISTED_FILES = 3_000;
  private static final int LOG_CAPACITY = 20_000;
  private static final String DOCS = "https://docs.github.com/rest";
  static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";

  private static final Pattern ACCESS_TOKENS =
      Pattern.compile("^/app/installations/(\\d+)/access_tokens$");
  private static final Pattern BY_NAME =
      Pattern.compile("^/repos/([^/]+)/([^/]+)(/pulls(?:/(\\d+)(/files)?)?)?/?$");
  private static final Pattern BY_ID =
      Pattern.compile("^/repositories/(\\d+)(/pulls(?:/(\\d+)(/files)?)?)?/?$");
  private static final Pattern COMPARE_BY_NAME =
      Pattern.compile("^/repos/([^/]+)/([^/]+)/compare/([^/]+)$");
  private static final Pattern COMPARE_BY_ID =
      Pattern.compile("^/repositories/(\\d+)/compare/([^/]+)$");

  static {
    // The JDK's HTTP server writes a response's headers and body in separate segments; without
    // TCP_NODELAY each response then waits for the client's delayed ACK (~40 ms). The server reads
    // the property once, when the first server of the JVM is created, so it is set before any
    // fake starts (unless someone chose a value already).
    if (System.getProperty(NODELAY_PROPERTY) == null) {
      System.setProperty(NODELAY_PROPERTY, "true");
    }
  }

  final Object lock = new Object();

  private final InstantSource clock;
  private final long seed;
  private final String pathPrefix;
  private final HttpServer server;
  private final ExecutorService executor;
  private final String baseUrl;
  private final ObjectMapper json = new ObjectMapper();

  // Guarded by lock.
  private final Map<String, FakeRepo> reposByName = new HashMap<>();
  private final Map<Long, FakeRepo> reposById = new HashMap<>();
  private final Set<String> tokens = new HashSet<>();
  private final Map<String, FakeApp> apps = new HashMap<>();
  private final Map<String, IssuedToken> installationTokens = new HashMap<>();
  private final Deque<Fault> faults = new ArrayDeque<>();
  private final Set<String> malformedPaths = new HashSet<>();
  private final Map<String, Oversize> oversizedPaths = new HashMap<>();
  private final Map<String, Integer> failedPaths = new HashMap<>();
  private final Set<String> notFoundRepos = new HashSet<>();
  private final Map<RequestKind, Map<Integer, Integer>> counts = new EnumMap<>(RequestKind.class);
  private final Deque<RecordedRequest> log = new ArrayDeque<>();
  private Duration installationTokenTtl = Duration.ofHours(1);
  private long nextId = 1_000_000;
  private int issuedTokens;
  private int total;
  private int counted;
  private final FakeBudget global;
  private final Map<Long, FakeInstallation> installations = new TreeMap<>();

  private volatile Duration latency = Duration.ZERO;
  private final boolean anonymous;
  private final boolean anyRepository;

  private FakeGitHub(Builder b) throws IOException {
    this.clock = b.clock;
    this.seed = b.seed;
    this.pathPrefix = b.pathPrefix;
    this.global = new FakeBudget(b.rateLimit);
    this.anonymous = b.anonymous;
    this.anyRepository = b.anyRepository;
    this.tokens.addAll(b.tokens.isEmpty() ? List.of(DEFAULT_TOKEN) : b.tokens);
    AtomicInteger threadNumber = new AtomicInteger();
    ThreadFactory threads =
        r -> {
          Thread t = new Thread(r, "fake-github-" + threadNumber.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    this.executor = Executors.newFixedThreadPool(b.threads, threads);
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
    this.baseUrl = "http://127.0.0.1:" + server.getAddress().getPort() + pathPrefix;
  }

  /** A fake on the system clock, seed 42, accepting {@link #DEFAULT_TOKEN}. */
  private static FakeGitHub knowsEveryRepository;

  /**
   * One fake GitHub for the whole test JVM, started on first use and never closed, that knows every
   * repository ({@link Builder#anyRepository}) and answers callers with or without a token: for servers and CLI commands whose test does not
   * care about GitHub, now that tracking asks GitHub whether a repository exists.
   */
  public static synchronized FakeGitHub knowingEveryRepository() {
    if (knowsEveryRepository == null) {
      knowsEveryRepository = builder().anyRepository().anonymousAccess().start();
    }
    return knowsEveryRepository;
  }

  public static FakeGitHub start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Options for a {@link FakeGitHub}. */
  public static final class Builder {
    private InstantSource clock = InstantSource.system();
    private long seed = 42;
    private String pathPrefix = "";
    private int rateLimit = DEFAULT_RATE_LIMIT;
    private int threads = 8;
    private boolean anonymous;
    private boolean anyRepository;
    private final List<String> tokens = new ArrayList<>();

    private Builder() {}

    /** The clock for timestamps, token expiry and the rate-limit window (default: system). */
    public Builder clock(InstantSource newClock) {
      this.clock = java.util.Objects.requireNonNull(newClock, "clock");
      return this;
    }

    /** The seed of generated contents (default 42). */
    public Builder seed(long newSeed) {
      this.seed = newSeed;
      return this;
    }

    /** Adds an accepted token; with none added, {@link #DEFAULT_TOKEN} is accepted. */
    public Builder token(String token) {
      tokens.add(java.util.Objects.requireNonNull(token, "token"));
      return this;
    }

    /** Requests per window (default 5,000). */
    public Builder rateLimit(int limit) {
      if (limit < 1) {
        throw new IllegalArgumentException("rateLimit must be >= 1, was " + limit);
      }
      this.rateLimit = limit;
      return this;
    }

    /**
     * Serves the API under a path, like GitHub Enterprise Server's {@code /api/v3}; {@link
     * #baseUrl()} then ends with it.
     */
    public Builder pathPrefix(String prefix) {
      String p = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
      if (!p.isEmpty() && !p.startsWith("/")) {
        throw new IllegalArgumentException("pathPrefix must start with '/', was " + prefix);
      }
      this.pathPrefix = p;
      return this;
    }

    /** Server threads (default 8). */
    public Builder threads(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("threads must be >= 1, was " + n);
      }
      this.threads = n;
      return this;
    }

    /**
     * Answers requests without an {@code Authorization} header, as GitHub does for public
     * repositories (principal {@code anonymous}); a repository marked {@link FakeGitHub#notFound} stands for
     * a private one. Combine with {@link #rateLimit(int) rateLimit(60)} for GitHub's limit.
     */
    public Builder anonymousAccess() {
      this.anonymous = true;
      return this;
    }

    /**
     * Answers for every repository, creating one (with no pull requests) the first time its name is
     * asked for: for tests of servers that check a repository on GitHub before tracking it, but do
     * not care what it holds.
     */
    public Builder anyRepository() {
      this.anyRepository = true;
      return this;
    }

    public FakeGitHub start() {
      try {
        return new FakeGitHub(this);
      } catch (IOException e) {
        throw new IllegalStateException("cannot start the fake GitHub: " + e, e);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Address and lifecycle

  /** The API base URL, e.g. {@code http://127.0.0.1:43567} (plus the path prefix, if any). */
  public String baseUrl() {
    return baseUrl;
  }

  public URI baseUri() {
    return URI.create(baseUrl);
  }

  /** Stops the server and its threads. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        executor.shutdownNow();
        executor.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // State

  /**
   * Creates a repository (default branch {@code main}).
   *
   * @throws IllegalStateException when one of that name (case-insensitively) exists
   */
  public FakeRepo createRepo(String owner, String name) {
    synchronized (lock) {
      String key = key(owner, name);
      if (reposByName.containsKey(key)) {
        throw new IllegalStateException("repository " + owner + "/" + name + " exists");
      }
      FakeRepo repo = new FakeRepo(this, nextId(), owner, name, now());
      reposByName.put(key, repo);
      reposById.put(repo.id(), repo);
      return repo;
    }
  }

  /**
   * The repository of that name (case-insensitive).
   *
   * @throws NoSuchElementException when there is none
   */
  public FakeRepo repo(String owner, String name) {
    synchronized (lock) {
      FakeRepo repo = reposByName.get(key(owner, name));
      if (repo == null) {
        throw new NoSuchElementException("no repository " + owner + "/" + name);
      }
      return repo;
    }
  }

  /** Accepts another token from now on. */
  public void addToken(String token) {
    synchronized (lock) {
      tokens.add(token);
    }
  }

  /** Stops accepting a token (requests with it get 401). */
  public void revokeToken(String token) {
    synchronized (lock) {
      tokens.remove(token);
    }
  }

  /**
   * Registers a GitHub App with a fresh RSA key pair and one installation. Its JWTs can then be
   * exchanged for installation tokens.
   */
  public FakeApp registerApp(String appId, long installationId) {
    FakeApp app = new FakeApp(appId, installationId); // key generation, outside the lock
    synchronized (lock) {
      apps.put(appId, app);
    }
    return app;
  }

  /**
   * Registers an app made by another fake (same id, installation and key pair), e.g. to generate
   * a key pair once per test class rather than once per test.
   */
  public FakeApp registerApp(FakeApp app) {
    synchronized (lock) {
      apps.put(app.appId(), app);
    }
    return app;
  }

  /**
   * Installs a {@linkplain #registerApp registered} app on {@code account} as installation {@code
   * installationId}: {@code GET /repos/{account}/{repo}/installation} and {@code GET
   * /app/installations} show it, its tokens see only that account's repositories ({@code GET
   * /installation/repositories} lists them), and it has a rate-limit budget of its own.
   *
   * @throws IllegalArgumentException when the app is not registered, the id is taken, or the app
   *     is installed on the account already
   */
  public FakeInstallation install(FakeApp app, String account, long installationId) {
    synchronized (lock) {
      if (apps.get(app.appId()) == null) {
        throw new IllegalArgumentException(app + " is not registered");
      }
      if (installations.containsKey(installationId) || installationId == app.installationId()) {
        throw new IllegalArgumentException("installation " + installationId + " exists");
      }
      for (FakeInstallation i : installations.values()) {
        if (i.app().appId().equals(app.appId()) && i.account().equalsIgnoreCase(account)) {
          throw new IllegalArgumentException(app + " is installed on " + account + " already");
        }
      }
      FakeInstallation installation = new FakeInstallation(this, app, account, installationId);
      installations.put(installationId, installation);
      return installation;
    }
  }

  /**
   * An installation made with {@link #install}.
   *
   * @throws NoSuchElementException when there is none of that id
   */
  public FakeInstallation installation(long installationId) {
    synchronized (lock) {
      FakeInstallation installation = installations.get(installationId);
      if (installation == null) {
        throw new NoSuchElementException("no installation " + installationId);
      }
      return installation;
    }
  }

  /** Removes an installation: its tokens stop working, and its account has no installation. */
  public void uninstall(FakeInstallation installation) {
    synchronized (lock) {
      installations.remove(installation.id());
      installationTokens.values().removeIf(t -> t.installationId() == installation.id());
    }
  }

  /** How long installation tokens live (default an hour, as on GitHub). */
  public void installationTokenTtl(Duration ttl) {
    synchronized (lock) {
      installationTokenTtl = ttl;
    }
  }

  /** Invalidates every installation token issued so far (their requests then get 401). */
  public void revokeInstallationTokens() {
    synchronized (lock) {
      installationTokens.clear();
    }
  }

  /** How many installation tokens have been issued. */
  public int issuedInstallationTokens() {
    synchronized (lock) {
      return issuedTokens;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Switches

  /** Every request waits this long (real time) before it is answered. */
  public void latency(Duration perRequest) {
    this.latency = java.util.Objects.requireNonNull(perRequest, "perRequest");
  }

  /**
   * The next {@code count} API requests (not access-token requests) are answered with {@code
   * status} (e.g. 502), before authentication, without counting against the rate limit.
   */
  public void failNext(int count, int status) {
    failNext(null, count, status);
  }

  /** The next {@code count} requests of {@code kind} are answered with {@code status}. */
  public void failNext(RequestKind kind, int count, int status) {
    synchronized (lock) {
      for (int i = 0; i < count; i++) {
        faults.add(new Fault(kind, status, null, false));
      }
    }
  }

  /**
   * The next {@code count} API requests hit a secondary rate limit: {@code status} 403 or 429 with
   * GitHub's "secondary rate limit" message and, when {@code retryAfter} is not null, a {@code
   * retry-after} header in whole seconds. {@code x-ratelimit-remaining} stays above zero.
   */
  public void secondaryLimitNext(int count, int status, Duration retryAfter) {
    if (status != 403 && status != 429) {
      throw new IllegalArgumentException("a secondary limit is 403 or 429, not " + status);
    }
    synchronized (lock) {
      for (int i = 0; i < count; i++) {
        faults.add(new Fault(null, status, retryAfter, true));
      }
    }
  }

  /**
   * Every request for {@code path} — a canonical path like {@code /repos/acme/widgets/pulls/3} or
   * {@code /repos/acme/widgets/pulls/3/files} (every page), matched case-insensitively, whichever
   * URL form the request used — is answered with {@code status} (e.g. 404, 422, 502) and GitHub's
   * error body, until {@link #clearFaults}. Unlike {@link #failNext}, the request is authenticated
   * and counts against the rate limit, as GitHub's own errors do.
   */
  public void failPath(String path, int status) {
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("an error status is 4xx or 5xx, not " + status);
    }
    synchronized (lock) {
      failedPaths.put(path.toLowerCase(Locale.ROOT), status);
    }
  }

  /** Drops pending {@link #failNext} and {@link #secondaryLimitNext} faults, and {@link #failPath}. */
  public void clearFaults() {
    synchronized (lock) {
      faults.clear();
      failedPaths.clear();
    }
  }

  /** Uses up the rate limit: requests get 403 until the current window resets. */
  public void exhaustRateLimit() {
    synchronized (lock) {
      global.exhaust(now());
    }
  }

  /**
   * Sets the window: {@code limit} requests, {@code remainingNow} of them left, renewed at {@code
   * reset}.
   */
  public void setRateLimit(int limit, int remainingNow, Instant reset) {
    synchronized (lock) {
      global.set(limit, remainingNow, reset);
    }
  }

  /** Requests left in the current window. */
  public int rateLimitRemaining() {
    synchronized (lock) {
      return global.remaining(now());
    }
  }

  /** When the current window resets (opens one if none is open). */
  public Instant rateLimitResetAt() {
    synchronized (lock) {
      return global.resetAt(now());
    }
  }

  /**
   * Answers 200 with a truncated, invalid JSON body for {@code path} — a canonical path like {@code
   * /repos/acme/widgets/pulls/3} or {@code /repos/acme/widgets/pulls} (every page), matched
   * case-insensitively, whichever URL form the request used.
   */
  public void malformedJson(String path) {
    synchronized (lock) {
      malformedPaths.add(path.toLowerCase(Locale.ROOT));
    }
  }

  public void clearMalformedJson() {
    synchronized (lock) {
      malformedPaths.clear();
    }
  }

  /**
   * Answers 200 for {@code path} (a canonical path, as for {@link #malformedJson}) with a JSON
   * body of {@code bytes} bytes, streamed without ever being held in memory: with a {@code
   * Content-Length} when {@code declareLength}, else chunked (so only counting tells its size).
   */
  public void oversizedBody(String path, long bytes, boolean declareLength) {
    if (bytes < 2) {
      throw new IllegalArgumentException("bytes must be at least 2, was " + bytes);
    }
    synchronized (lock) {
      oversizedPaths.put(path.toLowerCase(Locale.ROOT), new Oversize(bytes, declareLength));
    }
  }

  public void clearOversizedBodies() {
    synchronized (lock) {
      oversizedPaths.clear();
    }
  }

  /** Every request for the repository (and its pulls) gets 404 until {@link #clearNotFound}. */
  public void notFound(String owner, String name) {
    synchronized (lock) {
      notFoundRepos.add(key(owner, name));
    }
  }

  public void clearNotFound(String owner, String name) {
    synchronized (lock) {
      notFoundRepos.remove(key(owner, name));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Counters

  /** Requests of {@code kind} answered with {@code status}. */
  public int requests(RequestKind kind, int status) {
    synchronized (lock) {
      return counts.getOrDefault(kind, Map.of()).getOrDefault(status, 0);
    }
  }

  /** Requests of {@code kind}, any status. */
  public int requests(RequestKind kind) {
    synchronized (lock) {
      return counts.getOrDefault(kind, Map.of()).values().stream().mapToInt(i -> i).sum();
    }
  }

  /** Every request answered. */
  public int totalRequests() {
    synchronized (lock) {
      return total;
    }
  }

  /** Requests that used up rate limit (not 304s, not refusals, not injected faults). */
  public int rateLimitedRequests() {
    synchronized (lock) {
      return counted;
    }
  }

  /** The most recent requests (up to 20,000), oldest first. */
  public List<RecordedRequest> requestLog() {
    synchronized (lock) {
      return List.copyOf(log);
    }
  }

  /** Zeroes the counters and empties the request log; state and the rate-limit window stay. */
  public void resetCounters() {
    synchronized (lock) {
      counts.clear();
      log.clear();
      total = 0;
      counted = 0;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Package-private helpers for the state classes

  long seed() {
    return seed;
  }

  Instant now() {
    return clock.instant();
  }

  long nextId() {
    return nextId++;
  }

  // ---------------------------------------------------------------------------------------------
  // Serving

  private record Fault(RequestKind kind, int status, Duration retryAfter, boolean secondary) {}

  private record IssuedToken(long installationId, Instant expiresAt) {}

  private record Reply(int status, byte[] body, Map<String, String> headers, Oversize oversize) {
    Reply(int status, byte[] body, Map<String, String> headers) {
      this(status, body, headers, null);
    }
  }

  /** A body of {@code bytes} bytes to stream instead of {@link Reply#body()}. */
  private record Oversize(long bytes, boolean declareLength) {}

  private record Request(
      String method,
      String target,
      String path,
      Map<String, String> query,
      Map<String, String> headers,
      byte[] body) {
    String header(String name) {
      return headers.get(name);
    }
  }

  /** Where a request is going. */
  private record Route(
      RequestKind kind, String owner, String name, Long repoId, Integer number, String rest) {}

  private void handle(HttpExchange exchange) {
    try {
      Duration delay = latency;
      if (!delay.isZero()) {
        Thread.sleep(delay.toMillis());
      }
      Request request = read(exchange);
      Reply reply;
      synchronized (lock) {
        reply = respond(request);
      }
      reply.headers().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
      if (reply.oversize() != null) {
        streamOversized(exchange, reply.oversize());
        return;
      }
      boolean empty = reply.body().length == 0;
      exchange.sendResponseHeaders(reply.status(), empty ? -1 : reply.body().length);
      if (!empty) {
        exchange.getResponseBody().write(reply.body());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      try {
        byte[] body =
            ("{\"message\":\"fake GitHub failed: " + e + "\"}").getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(500, body.length);
        exchange.getResponseBody().write(body);
      } catch (IOException | RuntimeException ignored) {
        // the client went away
      }
    } finally {
      exchange.close();
    }
  }

  /** {@code [}, spaces, {@code ]}: valid JSON of exactly the size asked for, in 64 KiB writes. */
  private static void streamOversized(HttpExchange exchange, Oversize oversize)
      throws IOException {
    exchange.sendResponseHeaders(200, oversize.declareLength() ? oversize.bytes() : 0);
    OutputStream out = exchange.getResponseBody();
    byte[] spaces = new byte[64 * 1024];
    Arrays.fill(spaces, (byte) ' ');
    out.write('[');
    long left = oversize.bytes() - 2;
    while (left > 0) {
      int n = (int) Math.min(spaces.length, left);
      out.write(spaces, 0, n);
      left -= n;
    }
    out.write(']');
  }

  private Request read(HttpExchange exchange) throws IOException {
    URI uri = exchange.getRequestURI();
    String rawPath = uri.getRawPath();
    String path = URLDecoder.decode(rawPath, StandardCharsets.UTF_8);
    if (!pathPrefix.isEmpty() && path.startsWith(pathPrefix)) {
      path = path.substring(pathPrefix.length());
    } else if (!pathPrefix.isEmpty()) {
      path = "/__outside_prefix__" + path;
    }
    Map<String, String> query = new LinkedHashMap<>();
    String rawQuery = uri.getRawQuery();
    if (rawQuery != null) {
      for (String pair : rawQuery.split("&")) {
        int eq = pair.indexOf('=');
        String k = eq < 0 ? pair : pair.substring(0, eq);
        String v = eq < 0 ? "" : pair.substring(eq + 1);
        query.put(
            URLDecoder.decode(k, StandardCharsets.UTF_8),
            URLDecoder.decode(v, StandardCharsets.UTF_8));
      }
    }
    Map<String, String> headers = new TreeMap<>();
    exchange
        .getRequestHeaders()
        .forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(", ", v)));
    byte[] body;
    try (InputStream in = exchange.getRequestBody()) {
      body = in.readAllBytes();
    }
    String target = rawPath + (rawQuery == null ? "" : "?" + rawQuery);
    return new Request(exchange.getRequestMethod(), target, path, query, headers, body);
  }

  private Reply respond(Request request) {
    Instant now = now();
    Route route = route(request);
    Fault fault = takeFault(route.kind());
    if (fault != null) {
      Reply reply = faultReply(fault, now);
      record(request, route.kind(), reply.status(), null, false, now);
      return reply;
    }
    if (route.kind() == RequestKind.ACCESS_TOKEN) {
      return accessToken(request, route, now);
    }
    if (route.kind() == RequestKind.INSTALLATION || route.kind() == RequestKind.APP_INSTALLATIONS) {
      return appEndpoint(request, route, now);
    }
    String principal = authenticate(request.header("authorization"), now);
    if (principal == null) {
      Reply reply = error(401, "Bad credentials", Map.of());
      record(request, route.kind(), 401, null, false, now);
      return reply;
    }
    FakeBudget budget = budget(principal);
    budget.roll(now);
    if (budget.exhausted()) {
      Map<String, String> headers = budget.headers();
      Reply reply =
          error(
              403,
              "API rate limit exceeded for user ID 583231. If you reach out to GitHub Support for"
                  + " help, please include the request ID 0A1B:2C3D:4E5F:6A7B:8C9D.",
              headers,
              DOCS + "/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit");
      record(request, route.kind(), 403, principal, false, now);
      return reply;
    }
    Reply reply =
        route.kind() == RequestKind.OTHER
            ? null
            : route.kind() == RequestKind.INSTALLATION_REPOSITORIES
                ? installationRepositories(request, principal)
                : resource(request, route, principal);
    if (reply == null) {
      reply = error(404, "Not Found", Map.of());
    }
    if (reply.status() == 200) {
      String etag = etag(reply.body());
      if (matches(request.header("if-none-match"), etag)) {
        Map<String, String> headers = new LinkedHashMap<>(reply.headers());
        headers.remove("content-type");
        headers.put("etag", etag);
        headers.putAll(budget.headers());
        record(request, route.kind(), 304, principal, false, now);
        return new Reply(304, new byte[0], headers);
      }
      reply.headers().put("etag", etag);
    }
    budget.use();
    reply.headers().putAll(budget.headers());
    record(request, route.kind(), reply.status(), principal, true, now);
    return reply;
  }

  private Route route(Request request) {
    String path = request.path();
    Matcher m = ACCESS_TOKENS.matcher(path);
    if (m.matches()) {
      return request.method().equals("POST")
          ? new Route(RequestKind.ACCESS_TOKEN, null, null, null, null, m.group(1))
          : other();
    }
    if (!request.method().equals("GET")) {
      return other();
    }
    m = FakeInstallations.INSTALLATION_OF_REPO.matcher(path);
    if (m.matches()) {
      return new Route(RequestKind.INSTALLATION, m.group(1), m.group(2), null, null, null);
    }
    if (path.equals("/app/installations")) {
      return new Route(RequestKind.APP_INSTALLATIONS, null, null, null, null, null);
    }
    if (path.equals("/installation/repositories")) {
      return new Route(RequestKind.INSTALLATION_REPOSITORIES, null, null, null, null, null);
    }
    m = COMPARE_BY_NAME.matcher(path);
    if (m.matches()) {
      return new Route(RequestKind.COMPARE, m.group(1), m.group(2), null, null, m.group(3));
    }
    m = COMPARE_BY_ID.matcher(path);
    if (m.matches()) {
      return new Route(
          RequestKind.COMPARE, null, null, Long.parseLong(m.group(1)), null, m.group(2));
    }
    m = BY_NAME.matcher(path);
    if (m.matches()) {
      return route(m.group(1), m.group(2), null, m.group(3), m.group(4), m.group(5));
    }
    m = BY_ID.matcher(path);
    if (m.matches()) {
      return route(null, null, Long.parseLong(m.group(1)), m.group(2), m.group(3), m.group(4));
    }
    return other();
  }

  private static Route route(
      String owner, String name, Long repoId, String pulls, String number, String files) {
    Integer n = null;
    if (number != null) {
      try {
        n = Integer.parseInt(number);
      } catch (NumberFormatException e) {
        return other();
      }
    }
    RequestKind kind =
        pulls == null
            ? RequestKind.REPOSITORY
            : n == null
                ? RequestKind.PULLS_LIST
                : files == null ? RequestKind.PULL : RequestKind.FILES;
    return new Route(kind, owner, name, repoId, n, null);
  }

  private static Route other() {
    return new Route(RequestKind.OTHER, null, null, null, null, null);
  }

  private Fault takeFault(RequestKind kind) {
    for (Iterator<Fault> it = faults.iterator(); it.hasNext(); ) {
      Fault f = it.next();
      boolean applies =
          f.kind() == null
              ? kind != RequestKind.ACCESS_TOKEN
                  && kind != RequestKind.OTHER
                  && kind != RequestKind.INSTALLATION
                  && kind != RequestKind.APP_INSTALLATIONS
              : f.kind() == kind;
      if (applies) {
        it.remove();
        return f;
      }
    }
    return null;
  }

  private Reply faultReply(Fault fault, Instant now) {
    if (fault.secondary()) {
      rollWindow(now);
      Map<String, String> headers = rateLimitHeaders();
      if (fault.retryAfter() != null) {
        headers.put("retry-after", Long.toString(fault.retryAfter().toSeconds()));
      }
      return error(
          fault.status(),
          "You have exceeded a secondary rate limit. Please wait a few minutes before you try"
              + " again. If you reach out to GitHub Support for help, please include the request"
              + " ID 1A2B:3C4D:5E6F:7A8B:9C0D.",
          headers,
          DOCS + "/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits");
    }
    if (fault.status() == 502) {
      // GitHub's load balancers answer some 5xx with HTML, not JSON.
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("content-type", "text/html");
      return new Reply(
          502,
          "<html><body><h1>502 Bad Gateway</h1></body></html>".getBytes(StandardCharsets.UTF_8),
          headers);
    }
    return error(fault.status(), fault.status() >= 500 ? "Server Error" : "Error", Map.of());
  }

  private String authenticate(String authorization, Instant now) {
    if (authorization == null && anonymous) {
      return "anonymous";
    }
    String credential = credential(authorization);
    if (credential == null) {
      return null;
    }
    if (tokens.contains(credential)) {
      return "token:" + credential;
    }
    IssuedToken issued = installationTokens.get(credential);
    if (issued != null && issued.expiresAt().isAfter(now)) {
      return "installation:" + issued.installationId();
    }
    return null;
  }

  private static String credential(String authorization) {
    if (authorization == null) {
      return null;
    }
    String[] parts = authorization.trim().split("\\s+", 2);
    if (parts.length != 2) {
      return null;
    }
    String scheme = parts[0].toLowerCase(Locale.ROOT);
    return scheme.equals("bearer") || scheme.equals("token") ? parts[1].trim() : null;
  }

  /** The app whose valid JWT authorizes {@code request}, or the reason it does not. */
  private record JwtCheck(FakeApp app, String failure) {}

  private JwtCheck checkJwt(Request request, Instant now) {
    String jwt = credential(request.header("authorization"));
    String failure = null;
    FakeApp app = null;
    if (jwt == null) {
      failure = "A JSON web token could not be decoded";
    } else {
      String[] parts = jwt.split("\\.");
      try {
        if (parts.length != 3) {
          throw new IllegalArgumentException("not three parts");
        }
        Base64.Decoder decoder = Base64.getUrlDecoder();
        JsonNode header = json.readTree(decoder.decode(parts[0]));
        JsonNode payload = json.readTree(decoder.decode(parts[1]));
        if (!"RS256".equals(header.path("alg").asText())) {
          failure = "A JSON web token could not be decoded";
        } else {
          app = apps.get(payload.path("iss").asText());
          if (app == null) {
            failure = "Integration not found";
          } else {
            Signature verifier = Signature.getInstance("SHA256withRSA");
            verifier.initVerify(app.publicKey());
            verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
            long iat = payload.path("iat").asLong(Long.MIN_VALUE);
            long exp = payload.path("exp").asLong(Long.MIN_VALUE);
            long nowSeconds = now.getEpochSecond();
            if (!verifier.verify(decoder.decode(parts[2]))) {
              failure = "A JSON web token could not be decoded";
            } else if (!payload.path("exp").isNumber() || exp <= nowSeconds) {
              failure =
                  "'Expiration time' claim ('exp') must be a numeric value representing the future"
                      + " time at which the assertion expires";
            } else if (exp > nowSeconds + 600 + 30) {
              failure = "'Expiration time' claim ('exp') is too far in the future";
            } else if (!payload.path("iat").isNumber() || iat > nowSeconds + 60) {
              failure =
                  "'Issued at' claim ('iat') must be an Integer representing the time that the"
                      + " assertion was issued";
            }
          }
        }
      } catch (IOException | IllegalArgumentException | GeneralSecurityException e) {
        failure = "A JSON web token could not be decoded";
      }
    }
    return new JwtCheck(failure == null ? app : null, failure);
  }

  private Reply accessToken(Request request, Route route, Instant now) {
    JwtCheck check = checkJwt(request, now);
    if (check.failure() != null) {
      record(request, RequestKind.ACCESS_TOKEN, 401, null, false, now);
      return error(401, check.failure(), Map.of());
    }
    FakeApp app = check.app();
    String principal = "app:" + app.appId();
    long installationId = Long.parseLong(route.rest());
    FakeInstallation installed = installations.get(installationId);
    boolean ours =
        installationId == app.installationId()
            || (installed != null && installed.app().appId().equals(app.appId()));
    if (!ours) {
      record(request, RequestKind.ACCESS_TOKEN, 404, principal, false, now);
      return error(404, "Not Found", Map.of());
    }
    issuedTokens++;
    String token =
        "ghs_" + FileGenerator.sha1("installation:" + seed + ":" + issuedTokens).substring(0, 36);
    Instant expiresAt = now.plus(installationTokenTtl).truncatedTo(ChronoUnit.SECONDS);
    installationTokens.put(token, new IssuedToken(installationId, expiresAt));
    ObjectNode body = json.createObjectNode();
    body.put("token", token);
    body.put("expires_at", expiresAt.toString());
    ObjectNode permissions = body.putObject("permissions");
    permissions.put("contents", "read");
    permissions.put("metadata", "read");
    permissions.put("pull_requests", "read");
    body.put("repository_selection", "all");
    record(request, RequestKind.ACCESS_TOKEN, 201, principal, false, now);
    return json(201, body, new LinkedHashMap<>());
  }

  /** {@code GET /repos/{o}/{r}/installation} and {@code GET /app/installations}, with a JWT. */
  private Reply appEndpoint(Request request, Route route, Instant now) {
    JwtCheck check = checkJwt(request, now);
    if (check.failure() != null) {
      record(request, route.kind(), 401, null, false, now);
      return error(401, check.failure(), Map.of());
    }
    FakeApp app = check.app();
    String principal = "app:" + app.appId();
    Reply reply;
    if (route.kind() == RequestKind.INSTALLATION) {
      FakeRepo repo = reposByName.get(key(route.owner(), route.name()));
      FakeInstallation found =
          repo == null
              ? null
              : FakeInstallations.of(installations.values(), app, repo.owner(), repo.name());
      reply =
          found == null
              ? error(404, "Not Found", Map.of())
              : json(200, FakeInstallations.json(json, found, baseUrl), new LinkedHashMap<>());
    } else {
      List<FakeInstallation> all = FakeInstallations.ofApp(installations.values(), app);
      int perPage = perPage(request.query());
      int page = page(request.query());
      ArrayNode items = json.createArrayNode();
      for (int i = (page - 1) * perPage; i < Math.min(all.size(), page * perPage); i++) {
        items.add(FakeInstallations.json(json, all.get(i), baseUrl));
      }
      Map<String, String> headers = new LinkedHashMap<>();
      String link = link("/app/installations", null, perPage, page, all.size());
      if (link != null) {
        headers.put("link", link);
      }
      reply = json(200, items, headers);
    }
    record(request, route.kind(), reply.status(), principal, false, now);
    return reply;
  }

  /** {@code GET /installation/repositories}: what the calling installation's token can see. */
  private Reply installationRepositories(Request request, String principal) {
    FakeInstallation installation = installationOf(principal);
    if (installation == null) {
      return error(
          403,
          "You must authenticate with an installation access token in order to list repositories"
              + " for an installation.",
          Map.of());
    }
    List<FakeRepo> visible = new ArrayList<>();
    for (FakeRepo repo : reposById.values()) {
      if (installation.sees(repo.owner(), repo.name())
          && !notFoundRepos.contains(key(repo.owner(), repo.name()))) {
        visible.add(repo);
      }
    }
    visible.sort(java.util.Comparator.comparingLong(FakeRepo::id));
    int perPage = perPage(request.query());
    int page = page(request.query());
    ObjectNode body = json.createObjectNode();
    body.put("total_count", visible.size());
    body.put("repository_selection", "all");
    ArrayNode items = body.putArray("repositories");
    for (int i = (page - 1) * perPage; i < Math.min(visible.size(), page * perPage); i++) {
      items.add(repoJson(visible.get(i)));
    }
    Map<String, String> headers = new LinkedHashMap<>();
    String link = link("/installation/repositories", null, perPage, page, visible.size());
    if (link != null) {
      headers.put("link", link);
    }
    return json(200, body, headers);
  }

  /** The 200 (or 404) for a resource request, authenticated and within the rate limit. */
  private Reply resource(Request request, Route route, String principal) {
    FakeRepo repo =
        route.repoId() != null
            ? reposById.get(route.repoId())
            : reposByName.get(key(route.owner(), route.name()));
    if (repo == null && anyRepository && route.repoId() == null) {
      synchronized (lock) {
        repo = reposByName.get(key(route.owner(), route.name()));
        if (repo == null) {
          repo = createRepo(route.owner(), route.name());
        }
      }
    }
    if (repo == null || notFoundRepos.contains(key(repo.owner(), repo.name()))) {
      return error(404, "Not Found", Map.of());
    }
    FakeInstallation installation = installationOf(principal);
    if (installation != null && !installation.sees(repo.owner(), repo.name())) {
      return error(404, "Not Found", Map.of()); // another installation's repository
    }
    String canonical = "/repos/" + repo.owner() + "/" + repo.name();
    Reply reply;
    switch (route.kind()) {
      case REPOSITORY:
        reply = json(200, repoJson(repo), new LinkedHashMap<>());
        break;
      case PULLS_LIST:
        {
          canonical += "/pulls";
          String state = request.query().getOrDefault("state", "open");
          if (!Set.of("open", "closed", "all").contains(state)) {
            return error(422, "Validation Failed", Map.of());
          }
          List<FakePr> all = repo.pullsInState(state);
          int perPage = perPage(request.query());
          int page = page(request.query());
          ArrayNode items = json.createArrayNode();
          for (int i = (page - 1) * perPage; i < Math.min(all.size(), page * perPage); i++) {
            items.add(pullJson(all.get(i), false));
          }
          Map<String, String> headers = new LinkedHashMap<>();
          String link =
              link(
                  "/repositories/" + repo.id() + "/pulls",
                  "state=" + state,
                  perPage,
                  page,
                  all.size());
          if (link != null) {
            headers.put("link", link);
          }
          reply = json(200, items, headers);
          break;
        }
      case PULL:
        {
          canonical += "/pulls/" + route.number();
          FakePr pr = repo.pullOrNull(route.number());
          if (pr == null) {
            return error(404, "Not Found", Map.of());
          }
          reply = json(200, pullJson(pr, true), new LinkedHashMap<>());
          break;
        }
      case FILES:
        {
          canonical += "/pulls/" + route.number() + "/files";
          FakePr pr = repo.pullOrNull(route.number());
          if (pr == null) {
            return error(404, "Not Found", Map.of());
          }
          List<FakeFile> files = pr.files();
          int listed = Math.min(files.size(), MAX_LISTED_FILES);
          int perPage = perPage(request.query());
          int page = page(request.query());
          ArrayNode items = json.createArrayNode();
          for (int i = (page - 1) * perPage; i < Math.min(listed, page * perPage); i++) {
            items.add(fileJson(repo, pr, files.get(i)));
          }
          Map<String, String> headers = new LinkedHashMap<>();
          String link =
              link(
                  "/repositories/" + repo.id() + "/pulls/" + pr.number() + "/files",
                  null,
                  perPage,
                  page,
                  listed);
          if (link != null) {
            headers.put("link", link);
          }
          reply = json(200, items, headers);
          break;
        }
      case COMPARE:
        {
          canonical += "/compare/" + route.rest();
          reply = compare(request, repo, route.rest());
          if (reply.status() != 200) {
            return reply;
          }
          break;
        }
      default:
        return null;
    }
    Oversize oversize = oversizedPaths.get(canonical.toLowerCase(Locale.ROOT));
    if (oversize != null) {
      return new Reply(200, new byte[0], reply.headers(), oversize);
    }
    Integer failure = failedPaths.get(canonical.toLowerCase(Locale.ROOT));
    if (failure != null) {
      return error(
          failure,
          switch (failure) {
            case 404 -> "Not Found";
            case 422 -> "Validation Failed";
            default -> failure >= 500 ? "Server Error" : "Error";
          },
          Map.of());
    }
    if (malformedPaths.contains(canonical.toLowerCase(Locale.ROOT))) {
      byte[] body = reply.body();
      byte[] broken = new byte[Math.max(1, body.length / 2)];
      System.arraycopy(body, 0, broken, 0, broken.length);
      return new Reply(200, broken, reply.headers());
    }
    return reply;
  }

  /** The comparison of {@code basehead} ({@code BASE...HEAD}), or 404 for unknown commits. */
  private Reply compare(Request request, FakeRepo repo, String basehead) {
    int dots = basehead.indexOf("...");
    String base = dots < 0 ? null : repo.resolveBase(basehead.substring(0, dots));
    FakePr pr = dots < 0 ? null : repo.pullWithHead(basehead.substring(dots + 3));
    if (base == null || pr == null) {
      return error(404, "Not Found", Map.of());
    }
    String head = basehead.substring(dots + 3);
    String headSha = pr.hadHead(head) ? head : pr.headSha();
    boolean paged = request.query().containsKey("per_page") || request.query().containsKey("page");
    int perPage = paged ? perPage(request.query()) : FakeCompare.DEFAULT_COMMITS;
    int page = page(request.query());
    List<ObjectNode> files = new ArrayList<>();
    if (headSha.equals(pr.headSha())) {
      for (FakeFile file : pr.files()) {
        if (files.size() == FakeCompare.MAX_FILES) {
          break;
        }
        files.add(fileJson(repo, pr, file));
      }
    }
    ObjectNode body =
        new FakeCompare(json, baseUrl, this::ownerJson)
            .body(repo, pr, basehead, base, headSha, perPage, page, files);
    Map<String, String> headers = new LinkedHashMap<>();
    if (paged) {
      int commits = FakeCompare.aheadBy(pr, headSha, pr.mergeBaseOf(headSha));
      String link =
          link("/repositories/" + repo.id() + "/compare/" + basehead, null, perPage, page, commits);
      if (link != null) {
        headers.put("link", link);
      }
    }
    return json(200, body, headers);
  }

  private static int perPage(Map<String, String> query) {
    try {
      int n = Integer.parseInt(query.getOrDefault("per_page", "30"));
      return Math.max(1, Math.min(100, n));
    } catch (NumberFormatException e) {
      return 30;
    }
  }

  private static int page(Map<String, String> query) {
    try {
      return Math.max(1, Integer.parseInt(query.getOrDefault("page", "1")));
    } catch (NumberFormatException e) {
      return 1;
    }
  }

  /** GitHub's Link header: prev/next/last/first as they apply, or null for a single page. */
  private String link(String path, String extraQuery, int perPage, int page, int totalItems) {
    int last = Math.max(1, (totalItems + perPage - 1) / perPage);
    if (last == 1 && page == 1) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    if (page > 1) {
      parts.add(linkPart(path, extraQuery, perPage, Math.min(page - 1, last), "prev"));
    }
    if (page < last) {
      parts.add(linkPart(path, extraQuery, perPage, page + 1, "next"));
      parts.add(linkPart(path, extraQuery, perPage, last, "last"));
    }
    if (page > 1) {
      parts.add(linkPart(path, extraQuery, perPage, 1, "first"));
    }
    return String.join(", ", parts);
  }

  private String linkPart(String path, String extraQuery, int perPage, int page, String rel) {
    String query =
        (extraQuery == null ? "" : extraQuery + "&") + "per_page=" + perPage + "&page=" + page;
    return "<" + baseUrl + path + "?" + query + ">; rel=\"" + rel + "\"";
  }

  // ---------------------------------------------------------------------------------------------
  // JSON shapes

  private ObjectNode repoJson(FakeRepo repo) {
    ObjectNode n = json.createObjectNode();
    String api = baseUrl + "/repos/" + repo.fullName();
    n.put("id", repo.id());
    n.put("node_id", "R_kgDO" + Long.toString(repo.id(), 36));
    n.put("name", repo.name());
    n.put("full_name", repo.fullName());
    n.put("private", false);
    n.set("owner", ownerJson(repo.owner()));
    n.put("html_url", "https://github.example/" + repo.fullName());
    n.put("description", "Fake repository " + repo.fullName());
    n.put("fork", false);
    n.put("url", api);
    n.put("pulls_url", api + "/pulls{/number}");
    n.put("created_at", repo.createdAt().truncatedTo(ChronoUnit.SECONDS).toString());
    n.put("updated_at", repo.updatedAt().truncatedTo(ChronoUnit.SECONDS).toString());
    n.put("pushed_at", repo.updatedAt().truncatedTo(ChronoUnit.SECONDS).toString());
    n.put("size", 1024);
    n.put("stargazers_count", 7);
    n.put("language", "Java");
    n.put("has_issues", true);
    n.put("archived", false);
    n.put("disabled", false);
    n.put("open_issues_count", repo.openPulls().size());
    n.putNull("license");
    n.putArray("topics").add("fake");
    n.put("visibility", "public");
    n.put("forks", 0);
    n.put("open_issues", repo.openPulls().size());
    n.put("watchers", 7);
    n.put("default_branch", repo.defaultBranch());
    ObjectNode permissions = n.putObject("permissions");
    permissions.put("admin", false);
    permissions.put("push", false);
    permissions.put("pull", true);
    n.put("network_count", 0);
    n.put("subscribers_count", 1);
    return n;
  }

  private ObjectNode ownerJson(String login) {
    ObjectNode o = json.createObjectNode();
    o.put("login", login);
    o.put("id", Math.abs((long) login.toLowerCase(Locale.ROOT).hashCode()));
    o.put("node_id", "O_kgDO" + login);
    o.put("avatar_url", "https://avatars.example/u/" + login);
    o.put("url", baseUrl + "/users/" + login);
    o.put("type", "Organization");
    o.put("site_admin", false);
    return o;
  }

  private ObjectNode pullJson(FakePr pr, boolean full) {
    FakeRepo repo = pr.repo();
    String api = baseUrl + "/repos/" + repo.fullName() + "/pulls/" + pr.number();
    ObjectNode n = json.createObjectNode();
    n.put("url", api);
    n.put("id", pr.id());
    n.put("node_id", "PR_kwDO" + Long.toString(pr.id(), 36));
    n.put("html_url", "https://github.example/" + repo.fullName() + "/pull/" + pr.number());
    n.put(
        "diff_url",
        "https://github.example/" + repo.fullName() + "/pull/" + pr.number() + ".diff");
    n.put("number", pr.number());
    n.put("state", pr.state());
    n.put("locked", false);
    n.put("title", pr.title());
    n.set("user", ownerJson("dev" + (pr.number() % 7)));
    n.put("body", "Generated pull request " + pr.number() + ".\n\nNothing to see here.");
    n.put("created_at", pr.createdAt().toString());
    n.put("updated_at", pr.updatedAt().toString());
    putInstant(n, "closed_at", pr.closedAt());
    putInstant(n, "merged_at", pr.mergedAt());
    if (pr.number() % 4 != 0) {
      n.put("merge_commit_sha", pr.mergeCommitSha());
    }
    if (pr.number() % 2 != 0) {
      n.putNull("assignee");
    }
    n.putArray("assignees");
    n.putArray("requested_reviewers");
    ArrayNode labels = n.putArray("labels");
    if (pr.number() % 5 == 0) {
      ObjectNode label = labels.addObject();
      label.put("id", 208045946);
      label.put("name", "bug");
      label.put("color", "f29513");
      label.put("default", true);
    }
    n.putNull("milestone");
    n.put("draft", pr.draft());
    n.put("commits_url", api + "/commits");
    n.set("head", refJson(repo, pr.headRef(), pr.headSha(), pr.number() % 13 == 0));
    n.set("base", refJson(repo, pr.baseRef(), pr.baseSha(), false));
    ObjectNode links = n.putObject("_links");
    links.putObject("self").put("href", api);
    n.put("author_association", "CONTRIBUTOR");
    n.putNull("auto_merge");
    n.putNull("active_lock_reason");
    if (full) {
      n.put("merged", pr.merged());
      n.putNull("mergeable");
      n.putNull("rebaseable");
      n.put("mergeable_state", "unknown");
      n.putNull("merged_by");
      n.put("comments", pr.number() % 3);
      n.put("review_comments", 0);
      n.put("maintainer_can_modify", false);
      n.put("commits", pr.commits());
      n.put("additions", pr.additions());
      n.put("deletions", pr.deletions());
      n.put("changed_files", pr.changedFiles());
    }
    return n;
  }

  private ObjectNode refJson(FakeRepo repo, String ref, String sha, boolean deletedFork) {
    ObjectNode r = json.createObjectNode();
    r.put("label", repo.owner() + ":" + ref);
    r.put("ref", ref);
    r.put("sha", sha);
    r.set("user", ownerJson(repo.owner()));
    if (deletedFork) {
      r.putNull("repo");
    } else {
      ObjectNode small = json.createObjectNode();
      small.put("id", repo.id());
      small.put("name", repo.name());
      small.put("full_name", repo.fullName());
      small.put("private", false);
      small.put("default_branch", repo.defaultBranch());
      r.set("repo", small);
    }
    return r;
  }

  private ObjectNode fileJson(FakeRepo repo, FakePr pr, FakeFile file) {
    ObjectNode f = json.createObjectNode();
    f.put("sha", file.sha());
    f.put("filename", file.filename());
    f.put("status", file.status());
    f.put("additions", file.additions());
    f.put("deletions", file.deletions());
    f.put("changes", file.changes());
    String blob =
        "https://github.example/"
            + repo.fullName()
            + "/blob/"
            + pr.headSha()
            + "/"
            + file.filename();
    f.put("blob_url", blob);
    f.put("raw_url", blob.replace("/blob/", "/raw/"));
    f.put(
        "contents_url",
        baseUrl
            + "/repos/"
            + repo.fullName()
            + "/contents/"
            + file.filename()
            + "?ref="
            + pr.headSha());
    if (file.patch() != null) {
      f.put("patch", file.patch());
    }
    if (file.previousFilename() != null) {
      f.put("previous_filename", file.previousFilename());
    }
    return f;
  }

  private static void putInstant(ObjectNode n, String field, Instant value) {
    if (value == null) {
      n.putNull(field);
    } else {
      n.put(field, value.truncatedTo(ChronoUnit.SECONDS).toString());
    }
  }

  private Reply json(int status, JsonNode body, Map<String, String> headers) {
    try {
      headers.put("content-type", "application/json; charset=utf-8");
      headers.put("x-github-api-version-selected", "2022-11-28");
      headers.put("x-github-request-id", "FAKE:" + Integer.toHexString(total + 1));
      headers.put("vary", "Accept, Authorization, Cookie, X-GitHub-OTP");
      headers.put("cache-control", "private, max-age=60, s-maxage=60");
      return new Reply(status, json.writeValueAsBytes(body), headers);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private Reply error(int status, String message, Map<String, String> extraHeaders) {
    return error(status, message, extraHeaders, DOCS);
  }

  private Reply error(int status, String message, Map<String, String> extraHeaders, String docs) {
    ObjectNode body = json.createObjectNode();
    body.put("message", message);
    body.put("documentation_url", docs);
    body.put("status", Integer.toString(status));
    Map<String, String> headers = new LinkedHashMap<>(extraHeaders);
    return json(status, body, headers);
  }

  // ---------------------------------------------------------------------------------------------
  // Rate limit, ETags, bookkeeping

  private void rollWindow(Instant now) {
    global.roll(now);
  }

  private Map<String, String> rateLimitHeaders() {
    return global.headers();
  }

  /** The budget of {@code principal}: its installation's own, else the shared one. */
  private FakeBudget budget(String principal) {
    FakeInstallation installation = installationOf(principal);
    return installation != null ? installation.budget() : global;
  }

  /** The installation a principal {@code installation:<id>} belongs to, when it was installed. */
  private FakeInstallation installationOf(String principal) {
    if (principal == null || !principal.startsWith("installation:")) {
      return null;
    }
    return installations.get(Long.parseLong(principal.substring("installation:".length())));
  }

  private static String etag(byte[] body) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
      return "\"" + HexFormat.of().formatHex(digest, 0, 20) + "\"";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean matches(String ifNoneMatch, String etag) {
    if (ifNoneMatch == null) {
      return false;
    }
    for (String candidate : ifNoneMatch.split(",")) {
      String c = candidate.trim();
      if (c.startsWith("W/")) {
        c = c.substring(2);
      }
      if (c.equals("*") || c.equals(etag)) {
        return true;
      }
    }
    return false;
  }

  private void record(
      Request request,
      RequestKind kind,
      int status,
      String principal,
      boolean countedAgainstLimit,
      Instant at) {
    counts.computeIfAbsent(kind, k -> new TreeMap<>()).merge(status, 1, Integer::sum);
    total++;
    if (countedAgainstLimit) {
      counted++;
    }
    Map<String, String> headers = new TreeMap<>(request.headers());
    headers.remove("authorization");
    log.addLast(
        new RecordedRequest(
            at,
            request.method(),
            request.target(),
            kind,
            status,
            Optional.ofNullable(principal),
            Optional.ofNullable(request.header("if-none-match")),
            countedAgainstLimit,
            headers));
    if (log.size() > LOG_CAPACITY) {
      log.removeFirst();
    }
  }

  private static String key(String owner, String name) {
    return (owner + "/" + name).toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return "FakeGitHub[" + baseUrl + "]";
  }
}
