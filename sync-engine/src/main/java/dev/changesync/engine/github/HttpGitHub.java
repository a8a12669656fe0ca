package dev.changesync.engine.github;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.changesync.engine.github.GitHubCredentials.Credential;
import dev.changesync.engine.github.GitHubCredentials.Credentials;
import dev.changesync.engine.github.GitHubCredentials.Scope;
import dev.changesync.engine.github.GitHubListener.WaitReason;
import dev.changesync.engine.repo.RepoName;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link GitHub} over GitHub's REST API with {@link java.net.http.HttpClient} and Jackson.
 *
 * <p><b>Requests.</b> Every request sends {@code Accept: application/vnd.github+json}, {@code
 * X-GitHub-Api-Version: 2022-11-28}, the configured {@code User-Agent} and {@code Authorization:
 * Bearer} with a personal token or a GitHub App installation token. Listings start at {@code
 * per_page=}{@link GitHubSettings#pageSize()} and then follow only the {@code Link} header's {@code
 * rel="next"} — and only to the API's own origin (scheme, host and port of {@link
 * GitHubSettings#baseUrl()}), so a token is never sent elsewhere. Redirects are followed (up to
 * three, same origin only) by the client itself, never by the HTTP library.
 *
 * <p><b>Credentials.</b> A token (or none) for every request; a fixed GitHub App installation's
 * token; or, with {@link GitHubAuth.AppInstallations}, the token of each repository owner's
 * installation, found with the app's JWT and kept per owner ({@link Builder#installationCacheFor})
 * — one token per installation, renewed before it expires, and a 404 (or an installation gone)
 * looks the owner up again once ({@link GitHubCredentials}).
 *
 * <p><b>Conditional requests.</b> A GET whose earlier 200 carried an {@code ETag} is repeated
 * with {@code If-None-Match}; a 304 is answered from the cache and costs no rate limit. The cache
 * is keyed by URL and credential identity (see {@link GitHubCache}) and bounded by {@link
 * GitHubSettings#cacheMaxBytes()}. The calls taking {@link KnownETags} are conditional on the
 * caller's stored validators instead (kept beyond this process, without bodies): a 304 to one of
 * them is reported as {@link Conditional.Unchanged}, and a listing is unchanged only when every
 * page of the stored listing is.
 *
 * <p><b>Rate limits and retries.</b> The client remembers the last {@code x-ratelimit-*} headers
 * of each credential ({@link #credentialRateLimits()}), and a secondary limit's end; when a
 * credential's {@code remaining} is 0 and the reset lies ahead, a request with it waits until the reset (plus {@link
 * GitHubSettings#rateLimitResetMargin()}) before calling. A 403 or 429 that is a rate limit is
 * retried (up to {@link GitHubSettings#maxRateLimitRetries()} times) after {@code retry-after}
 * seconds when given, else after the reset when {@code x-ratelimit-remaining} is 0, else after a
 * backoff starting at {@link GitHubSettings#secondaryLimitBackoff()} (at least a minute by default)
 * that doubles, with jitter. A wait longer than {@link GitHubSettings#maxRateLimitWait()} is not
 * made: the call fails with {@link GitHubException#retryAt()}. 5xx answers, timeouts and network
 * errors are retried up to {@link GitHubSettings#maxRetries()} times with exponential backoff and
 * jitter. Any other status fails at once. Every wait goes through the {@link Sleeper}; time is read
 * only from the injected {@link InstantSource} (GitHub's reset times are wall-clock instants).
 *
 * <p><b>Cancellation.</b> An interrupt — while waiting for a response or for a backoff — ends the
 * call with a {@link GitHubException} whose {@link GitHubException#isInterrupted()} is true, and
 * leaves the thread's interrupt flag set. A {@link GitHub.PageConsumer}'s exceptions pass through
 * unchanged.
 *
 * <p><b>Secrets.</b> Tokens, JWTs and keys are never logged, never put in exception messages and
 * never shown by {@code toString()}. Logs name the method, URL (which never carries credentials)
 * and status.
 *
 * <p>Thread-safe; one instance is meant to be shared by all the work of one process.
 */
public final class HttpGitHub implements GitHub {

  private static final Logger log = LoggerFactory.getLogger(HttpGitHub.class);

  private static final ObjectMapper JSON =
      JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  /**
   * The default {@link Builder#maxResponseBytes}: 32 MiB. The largest answer the client asks for
   * is a page of 100 pull-request files with their patches. GitHub keeps a pull request's diff
   * within about 1 MB (a file's within 500 KB; beyond that the patch is left out), and JSON
   * escaping at most doubles typical diff text, so a real page stays in the low megabytes; GitHub
   * Enterprise Server's looser limits (1 MB per file) still fit most pages. 32 MiB leaves that
   * headroom while bounding what one worker thread can be made to hold.
   */
  public static final long DEFAULT_MAX_RESPONSE_BYTES = 32L * 1024 * 1024;

  private static final int MAX_REDIRECTS = 3;
  private static final int MAX_ERROR_TEXT = 300;

  private final GitHubSettings settings;
  private final HttpClient http;
  private final InstantSource clock;
  private final Sleeper sleeper;
  private final GitHubListener listener;
  private final RandomGenerator random;
  private final Credentials credentials;
  private final InstallationTokens tokens; // null without App credentials
  private final InstallationDirectory directory; // null unless installations are discovered
  private final GitHubCache cache; // null when disabled
  private final long maxResponseBytes;
  private final AtomicReference<RateLimit> rateLimit = new AtomicReference<>();
  private final ConcurrentMap<String, RateLimit> rateLimits = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Instant> secondaryUntil = new ConcurrentHashMap<>();

  private HttpGitHub(Builder b) {
    this.settings = b.settings;
    this.maxResponseBytes = b.maxResponseBytes;
    this.clock = b.clock;
    this.sleeper = b.sleeper;
    this.listener = b.listener;
    this.random = b.random;
    this.http =
        b.httpClient != null
            ? b.httpClient
            : HttpClient.newBuilder()
                .connectTimeout(settings.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .version(
                    settings.baseUrl().getScheme().equals("https")
                        ? HttpClient.Version.HTTP_2
                        : HttpClient.Version.HTTP_1_1)
                .build();
    this.cache =
        b.cache != null
            ? b.cache
            : settings.cacheMaxBytes() > 0
                ? GitHubCache.withMaxBytes(settings.cacheMaxBytes())
                : null;
    InstallationTokens.AppCalls appCalls =
        (kind, method, path) -> send(kind, method, api(path), null, Scope.APP).json();
    if (settings.auth() instanceof GitHubAuth.App app) {
      this.tokens =
          new InstallationTokens(
              app.appId(), app.privateKey(), clock, settings.tokenRefreshMargin(), appCalls);
      this.directory = null;
    } else if (settings.auth() instanceof GitHubAuth.AppInstallations app) {
      this.tokens =
          new InstallationTokens(
              app.appId(), app.privateKey(), clock, settings.tokenRefreshMargin(), appCalls);
      this.directory =
          new InstallationDirectory(app.appId(), appCalls, clock, b.installationCacheFor);
    } else {
      this.tokens = null;
      this.directory = null;
    }
    this.credentials = GitHubCredentials.of(settings.auth(), tokens, directory);
  }

  /** A client on the system clock, sleeping for real, with no listener. */
  public static HttpGitHub create(GitHubSettings settings) {
    return builder(settings).build();
  }

  public static Builder builder(GitHubSettings settings) {
    return new Builder(settings);
  }

  /** The collaborators of an {@link HttpGitHub}; each has a production default. */
  public static final class Builder {
    private final GitHubSettings settings;
    private InstantSource clock = InstantSource.system();
    private Sleeper sleeper = Sleeper.system();
    private GitHubListener listener = GitHubListener.NONE;
    private RandomGenerator random = new Random();
    private HttpClient httpClient;
    private GitHubCache cache;
    private long maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES;
    private Duration installationCacheFor = InstallationDirectory.DEFAULT_CACHE_FOR;

    private Builder(GitHubSettings settings) {
      this.settings = requireNonNull(settings, "settings");
    }

    /** Where "now" comes from, for rate-limit resets and token expiry (default: system clock). */
    public Builder clock(InstantSource value) {
      this.clock = requireNonNull(value, "clock");
      return this;
    }

    /** How the client waits (default: {@link Sleeper#system()}). */
    public Builder sleeper(Sleeper value) {
      this.sleeper = requireNonNull(value, "sleeper");
      return this;
    }

    /** Who hears about responses, rate limits and waits (default: none). */
    public Builder listener(GitHubListener value) {
      this.listener = requireNonNull(value, "listener");
      return this;
    }

    /** The source of backoff jitter; must be thread-safe (default: a new {@link Random}). */
    public Builder random(RandomGenerator value) {
      this.random = requireNonNull(value, "random");
      return this;
    }

    /**
     * The HTTP client to use (e.g. with a proxy or custom TLS). It must not follow redirects by
     * itself ({@link HttpClient.Redirect#NEVER}): it would carry the token to wherever a redirect
     * points. Default: one built from the settings' timeouts.
     *
     * @throws IllegalArgumentException when it follows redirects
     */
    public Builder httpClient(HttpClient value) {
      requireNonNull(value, "httpClient");
      if (value.followRedirects() != HttpClient.Redirect.NEVER) {
        throw new IllegalArgumentException(
            "httpClient must not follow redirects (Redirect.NEVER), was "
                + value.followRedirects());
      }
      this.httpClient = value;
      return this;
    }

    /**
     * Shares {@code value} as the conditional-request cache (and its memory budget) with other
     * clients, instead of a private one of {@link GitHubSettings#cacheMaxBytes()}. Entries are
     * keyed by credential, so clients with different credentials never see each other's.
     */
    public Builder cache(GitHubCache value) {
      this.cache = requireNonNull(value, "cache");
      return this;
    }

    /**
     * The largest response body read (default {@value #DEFAULT_MAX_RESPONSE_BYTES} bytes): a larger
     * one fails its call with a {@link GitHubException}, without retries and without reading the
     * rest.
     *
     * @throws IllegalArgumentException when it is below 1
     */
    public Builder maxResponseBytes(long value) {
      if (value < 1) {
        throw new IllegalArgumentException("maxResponseBytes must be at least 1, was " + value);
      }
      this.maxResponseBytes = value;
      return this;
    }

    /**
     * With {@link GitHubAuth.AppInstallations}: how long the installation found for a repository
     * owner is kept before it is looked up again (default an hour). A 404 under an installation's
     * token looks it up again at once.
     *
     * @throws IllegalArgumentException when it is not positive
     */
    public Builder installationCacheFor(Duration value) {
      requireNonNull(value, "installationCacheFor");
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException("installationCacheFor must be positive, was " + value);
      }
      this.installationCacheFor = value;
      return this;
    }

    public HttpGitHub build() {
      return new HttpGitHub(this);
    }
  }

  public GitHubSettings settings() {
    return settings;
  }

  /** The rate limit as GitHub last reported it, if any response has carried it yet. */
  @Override
  public Optional<RateLimit> rateLimit() {
    return Optional.ofNullable(rateLimit.get());
  }

  @Override
  public List<CredentialRateLimit> credentialRateLimits() {
    List<CredentialRateLimit> out = new ArrayList<>();
    rateLimits.forEach(
        (credential, limit) ->
            out.add(
                new CredentialRateLimit(
                    credential, limit, Optional.ofNullable(secondaryUntil.get(credential)))));
    return out;
  }

  @Override
  public Optional<String> credential(String owner, String repo) {
    RepoName.of(owner, repo);
    return credentials.identityFor(owner);
  }

  // ---------------------------------------------------------------------------------------------
  // The GitHub calls

  @Override
  public GhRepository repository(String owner, String repo) {
    URI uri = api(repoPath(owner, repo));
    Fetched f = send(RequestKind.REPOSITORY, "GET", uri, null, Scope.repository(owner, repo));
    return map(f, GitHubJson::repository);
  }

  @Override
  public ListingStats openPulls(String owner, String repo, PageConsumer<GhPullSummary> consumer) {
    requireNonNull(consumer, "consumer");
    URI first = api(repoPath(owner, repo) + "/pulls?state=open&per_page=" + settings.pageSize());
    return list(
        Scope.repository(owner, repo),
        RequestKind.PULLS_LIST,
        first,
        GitHubJson::pullSummary,
        consumer,
        Integer.MAX_VALUE);
  }

  @Override
  public GhPull pull(String owner, String repo, int number) {
    URI uri = api(repoPath(owner, repo) + "/pulls/" + checkNumber(number));
    Fetched f = send(RequestKind.PULL, "GET", uri, null, Scope.repository(owner, repo));
    return map(f, GitHubJson::pull);
  }

  @Override
  public ListingStats pullFiles(
      String owner, String repo, int number, PageConsumer<GhFile> consumer) {
    requireNonNull(consumer, "consumer");
    URI first =
        api(
            repoPath(owner, repo)
                + "/pulls/"
                + checkNumber(number)
                + "/files?per_page="
                + settings.pageSize());
    return list(
        Scope.repository(owner, repo), RequestKind.FILES, first, GitHubJson::file, consumer, MAX_FILES);
  }

  @Override
  public GhComparison compare(String owner, String repo, String baseSha, String headSha) {
    URI uri =
        api(
            repoPath(owner, repo)
                + "/compare/"
                + checkSha(baseSha)
                + "..."
                + checkSha(headSha)
                + "?per_page=1");
    Fetched f = send(RequestKind.COMPARE, "GET", uri, null, Scope.repository(owner, repo));
    return map(f, GitHubJson::comparison);
  }

  @Override
  public Conditional<ListingStats> openPulls(
      String owner, String repo, KnownETags known, PageConsumer<GhPullSummary> consumer) {
    requireNonNull(known, "known");
    requireNonNull(consumer, "consumer");
    URI first = api(repoPath(owner, repo) + "/pulls?state=open&per_page=" + settings.pageSize());
    return conditionalList(
        Scope.repository(owner, repo),
        RequestKind.PULLS_LIST,
        first,
        GitHubJson::pullSummary,
        consumer,
        Integer.MAX_VALUE,
        known);
  }

  @Override
  public Conditional<GhPull> pull(String owner, String repo, int number, KnownETags known) {
    requireNonNull(known, "known");
    URI uri = api(repoPath(owner, repo) + "/pulls/" + checkNumber(number));
    Fetched f = send(RequestKind.PULL, "GET", uri, known, Scope.repository(owner, repo));
    if (f.confirmed() != null) {
      return new Conditional.Unchanged<>(List.of(f.confirmed()));
    }
    return new Conditional.Changed<>(
        map(f, GitHubJson::pull),
        List.of(new Validator(f.credential(), f.uri().toString(), f.etag(), null, 0)));
  }

  @Override
  public Conditional<ListingStats> pullFiles(
      String owner, String repo, int number, KnownETags known, PageConsumer<GhFile> consumer) {
    requireNonNull(known, "known");
    requireNonNull(consumer, "consumer");
    URI first =
        api(
            repoPath(owner, repo)
                + "/pulls/"
                + checkNumber(number)
                + "/files?per_page="
                + settings.pageSize());
    return conditionalList(
        Scope.repository(owner, repo),
        RequestKind.FILES,
        first,
        GitHubJson::file,
        consumer,
        MAX_FILES,
        known);
  }

  @Override
  public ListingStats installationRepositories(
      long installationId, PageConsumer<GhRepository> consumer) {
    requireNonNull(consumer, "consumer");
    if (tokens == null) {
      throw new UnsupportedOperationException(
          "listing installation " + installationId + "'s repositories needs GitHub App credentials");
    }
    Scope scope = Scope.installation(installationId);
    URI next = api("/installation/repositories?per_page=" + settings.pageSize());
    int pages = 0;
    int notModified = 0;
    int items = 0;
    while (next != null) {
      Fetched f = send(RequestKind.INSTALLATION_REPOSITORIES, "GET", next, null, scope);
      pages++;
      notModified += f.notModified() ? 1 : 0;
      JsonNode repositories = f.json().path("repositories");
      if (!repositories.isArray()) {
        throw malformed(f, "expected a 'repositories' array");
      }
      List<GhRepository> page = new ArrayList<>(repositories.size());
      for (JsonNode item : repositories) {
        page.add(map(f, item, GitHubJson::repository));
      }
      items += page.size();
      if (!page.isEmpty() && !consumer.accept(List.copyOf(page))) {
        break;
      }
      next = nextPage(f);
    }
    return new ListingStats(pages, notModified, items);
  }

  /**
   * A listing made conditional on {@code known}. First the stored listing is followed, page by
   * page, along the stored next-page links, for as long as GitHub answers 304 to each stored
   * {@code ETag}; no page goes to the consumer meanwhile. When that reaches the stored last page
   * the listing is unchanged — unless that page was full: a page may have been added after it
   * without changing it (304s carry no {@code Link}), so it is listed again. As soon as a page is
   * not confirmed, the listing is made the ordinary way: from that page on when it is the first
   * one, else from the first page again (only the in-memory cache then saves requests: the
   * confirmed pages' bodies were not kept), so the consumer always sees the whole listing.
   */
  private <T> Conditional<ListingStats> conditionalList(
      Scope scope,
      RequestKind kind,
      URI first,
      Function<JsonNode, T> mapper,
      PageConsumer<T> consumer,
      int maxItems,
      KnownETags known) {
    List<Validator> confirmed = new ArrayList<>();
    int storedItems = 0;
    URI next = first;
    while (true) {
      Fetched f = send(kind, "GET", next, known, scope);
      Validator stored = f.confirmed();
      if (stored == null) {
        if (confirmed.isEmpty()) {
          return list(scope, kind, f, mapper, consumer, maxItems);
        }
        log.debug("GET {}: changed after {} unchanged pages; listing again", next, confirmed.size());
        return list(scope, kind, send(kind, "GET", first, null, scope), mapper, consumer, maxItems);
      }
      confirmed.add(stored);
      storedItems += stored.items();
      if (stored.nextUrl() == null) {
        if (stored.items() < settings.pageSize() || storedItems >= maxItems) {
          return new Conditional.Unchanged<>(confirmed);
        }
        return list(scope, kind, send(kind, "GET", first, null, scope), mapper, consumer, maxItems);
      }
      next = checkedNext(f.uri(), stored.nextUrl());
    }
  }

  private <T> ListingStats list(
      Scope scope,
      RequestKind kind,
      URI first,
      Function<JsonNode, T> mapper,
      PageConsumer<T> consumer,
      int maxItems) {
    return list(scope, kind, send(kind, "GET", first, null, scope), mapper, consumer, maxItems)
        .value();
  }

  /** A listing from its first page, {@code firstPage}, on; the validators of the pages consumed. */
  private <T> Conditional.Changed<ListingStats> list(
      Scope scope,
      RequestKind kind,
      Fetched firstPage,
      Function<JsonNode, T> mapper,
      PageConsumer<T> consumer,
      int maxItems) {
    int pages = 0;
    int notModified = 0;
    int items = 0;
    boolean truncated = false;
    List<Validator> validators = new ArrayList<>();
    Fetched f = firstPage;
    while (true) {
      pages++;
      if (f.notModified()) {
        notModified++;
      }
      if (!f.json().isArray()) {
        throw malformed(f, "expected a JSON array, got " + f.json().getNodeType());
      }
      List<T> page = new ArrayList<>(f.json().size());
      for (JsonNode item : f.json()) {
        page.add(map(f, item, mapper));
      }
      URI next;
      if (items + page.size() >= maxItems) {
        page = page.subList(0, maxItems - items);
        truncated = true;
        next = null;
      } else {
        next = nextPage(f);
      }
      items += page.size();
      int lastItems = f.json().size();
      if (!validators.isEmpty()) {
        Validator previous = validators.remove(validators.size() - 1);
        validators.add(
            new Validator(
                previous.credential(),
                previous.url(),
                previous.etag(),
                f.uri().toString(),
                previous.items()));
      }
      validators.add(new Validator(f.credential(), f.uri().toString(), f.etag(), null, lastItems));
      if (!page.isEmpty() && !consumer.accept(List.copyOf(page))) {
        break;
      }
      if (next == null) {
        break;
      }
      f = send(kind, "GET", next, null, scope);
    }
    return new Conditional.Changed<>(
        new ListingStats(pages, notModified, items, truncated), validators);
  }

  /** A stored next-page link, resolved against the page, and only on the API's origin. */
  private URI checkedNext(URI page, String next) {
    URI uri;
    try {
      uri = page.resolve(next);
    } catch (IllegalArgumentException e) {
      throw new GitHubException(
          "GET " + page + ": the stored next page is not a URL", OptionalInt.empty(), e);
    }
    if (!sameOrigin(uri, settings.baseUrl())) {
      throw new GitHubException(
          "GET " + page + ": refusing to follow a stored next page to " + origin(uri),
          OptionalInt.empty(),
          null);
    }
    return uri;
  }

  /** The {@code rel="next"} target, resolved, and only if it stays on the API's origin. */
  private URI nextPage(Fetched f) {
    Optional<String> next = LinkHeader.find(f.link(), "next");
    if (next.isEmpty()) {
      return null;
    }
    URI uri;
    try {
      uri = f.uri().resolve(next.get());
    } catch (IllegalArgumentException e) {
      throw new GitHubException(
          "GET " + f.uri() + ": the Link header's rel=\"next\" is not a URL",
          OptionalInt.empty(),
          e);
    }
    if (!sameOrigin(uri, settings.baseUrl())) {
      throw new GitHubException(
          "GET "
              + f.uri()
              + ": refusing to follow rel=\"next\" to "
              + origin(uri)
              + ", which is not the API's origin "
              + origin(settings.baseUrl()),
          OptionalInt.empty(),
          null);
    }
    return uri;
  }

  // ---------------------------------------------------------------------------------------------
  // One call: authentication, conditional request, retries, rate limits

  /**
   * A successful response (or a 304 served from the cache), parsed. {@code etag} is the ETag of
   * the representation {@code json} is (null when GitHub sent none); {@code confirmed} is the
   * caller's stored validator when GitHub answered 304 to it — then {@code json} may be null (no
   * body was kept).
   */
  private record Fetched(
      URI uri,
      int status,
      JsonNode json,
      String link,
      boolean notModified,
      String credential,
      String etag,
      Validator confirmed) {}

  private Fetched send(
      RequestKind kind, String method, URI uri, KnownETags known, Scope scope) {
    int failures = 0; // 5xx, timeouts, network errors
    int limitWaits = 0; // 403 / 429 rate limits
    int redirects = 0;
    boolean reauthenticated = false;
    boolean rediscovered = false;
    URI target = uri;
    while (true) {
      if (Thread.currentThread().isInterrupted()) {
        throw interrupted(method, target, new InterruptedException("interrupted before the call"));
      }
      Credential credential = credentials.credential(scope);
      if (!scope.isApp()) {
        awaitPrimaryReset(credential.identity(), method, target);
      }
      boolean conditional = cache != null && method.equals("GET");
      GitHubCache.Entry cached =
          conditional ? cache.get(credential.identity(), target.toString()) : null;
      // A stored validator wins over the in-memory entry: only a 304 to it says that what the
      // caller stored is current. The cached body is still usable when it is the same version.
      Validator stored =
          known == null || !method.equals("GET")
              ? null
              : known
                  .find(credential.identity(), target.toString())
                  .filter(v -> v.etag() != null && v.credential().equals(credential.identity()))
                  .orElse(null);
      if (stored != null && cached != null && !cached.etag().equals(stored.etag())) {
        cached = null;
      }

      HttpRequest.Builder request =
          HttpRequest.newBuilder(target)
              .timeout(settings.requestTimeout())
              .header("Accept", "application/vnd.github+json")
              .header("X-GitHub-Api-Version", GitHubSettings.API_VERSION)
              .header("User-Agent", settings.userAgent());
      if (credential.authorization() != null) {
        request.header("Authorization", credential.authorization());
      }
      if (stored != null) {
        request.header("If-None-Match", stored.etag());
      } else if (cached != null) {
        request.header("If-None-Match", cached.etag());
      }
      request.method(method, HttpRequest.BodyPublishers.noBody());

      long started = System.nanoTime();
      HttpResponse<byte[]> response;
      try {
        response = http.send(request.build(), BoundedBody.upTo(maxResponseBytes));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw interrupted(method, target, e);
      } catch (IOException e) {
        Optional<BoundedBody.TooLarge> tooLarge = causeTooLarge(e);
        if (tooLarge.isPresent()) {
          // Not a network error: the same request would bring the same body. No retry.
          throw new GitHubException(
              method
                  + " "
                  + target
                  + " failed: "
                  + tooLarge.get().getMessage()
                  + " (the client reads at most "
                  + maxResponseBytes
                  + " bytes of a response)",
              OptionalInt.empty(),
              e);
        }
        Duration took = since(started);
        notify(() -> listener.onNetworkError(kind, e, took));
        failures++;
        String what = method + " " + target + " failed (" + describe(e) + ")";
        if (failures > settings.maxRetries()) {
          throw new GitHubException(
              what + "; gave up after " + failures + " attempts", OptionalInt.empty(), e);
        }
        Duration backoff = backoff(failures);
        log.warn(
            "{}; retry {} of {} in {}ms", what, failures, settings.maxRetries(), backoff.toMillis());
        pause(WaitReason.NETWORK_ERROR, backoff, method, target);
        continue;
      }
      Duration took = since(started);
      int status = response.statusCode();
      notify(() -> listener.onResponse(kind, status, took));
      log.debug("{} {} -> {} in {} ms", method, target, status, took.toMillis());
      if (!scope.isApp()) {
        observeRateLimit(response, credential.identity());
      }

      if (status == 304 && stored != null) {
        return new Fetched(
            target,
            304,
            cached == null ? null : parse(cached.body(), method, target, 304),
            cached == null ? null : cached.link(),
            true,
            credential.identity(),
            stored.etag(),
            stored);
      }
      if (status == 304 && cached != null) {
        return new Fetched(
            target,
            304,
            parse(cached.body(), method, target, 304),
            cached.link(),
            true,
            credential.identity(),
            cached.etag(),
            null);
      }
      if (status >= 200 && status < 300) {
        JsonNode json = parse(response.body(), method, target, status);
        String link = response.headers().firstValue("link").orElse(null);
        Optional<String> etag = response.headers().firstValue("etag");
        if (conditional && etag.isPresent()) {
          cache.put(
              credential.identity(),
              target.toString(),
              new GitHubCache.Entry(etag.get(), response.body(), link));
        }
        return new Fetched(
            target, status, json, link, false, credential.identity(), etag.orElse(null), null);
      }
      if (isRedirect(status) && method.equals("GET")) {
        target = redirect(response, method, target, ++redirects);
        continue;
      }
      if (status == 401 && credential.renewable() && !reauthenticated) {
        // The installation token was revoked or expired early: get a new one, once.
        log.info("{} {} -> 401; renewing the installation token and retrying once", method, target);
        credentials.invalidate(credential);
        reauthenticated = true;
        continue;
      }
      if (status == 404 && !rediscovered && credentials.rediscover(scope, credential).isPresent()) {
        // The owner's installation changed: read again with the one now serving it, once.
        log.info("{} {} -> 404; the owner's App installation changed, retrying once", method, target);
        rediscovered = true;
        continue;
      }
      Optional<Limited> limited = rateLimited(response, limitWaits);
      if (limited.isPresent()) {
        Limited l = limited.get();
        limitWaits++;
        if (l.reason() != LimitKind.PRIMARY && !scope.isApp()) {
          secondaryUntil.merge(
              credential.identity(), l.retryAt(), (a, b) -> a.isAfter(b) ? a : b);
        }
        String what =
            method + " " + target + " -> " + status + " (" + l.reason().describe() + ")";
        if (limitWaits > settings.maxRateLimitRetries()
            || l.waitFor().compareTo(settings.maxRateLimitWait()) > 0) {
          throw new GitHubException(
              what
                  + "; not retrying after "
                  + (limitWaits - 1)
                  + " waits; GitHub takes requests again at "
                  + l.retryAt()
                  + errorText(response),
              OptionalInt.of(status),
              Optional.of(l.retryAt()),
              null);
        }
        log.warn(
            "{}; waiting {} (retry {} of {})",
            what,
            l.waitFor(),
            limitWaits,
            settings.maxRateLimitRetries());
        pause(l.reason().waitReason, l.waitFor(), method, target);
        continue;
      }
      if (status >= 500) {
        failures++;
        String what = method + " " + target + " -> " + status + errorText(response);
        if (failures > settings.maxRetries()) {
          throw new GitHubException(
              what + "; gave up after " + failures + " attempts", status);
        }
        Duration backoff = backoff(failures);
        log.warn(
            "{}; retry {} of {} in {}ms", what, failures, settings.maxRetries(), backoff.toMillis());
        pause(WaitReason.SERVER_ERROR, backoff, method, target);
        continue;
      }
      throw new GitHubException(
          method + " " + target + " -> " + status + errorText(response), status);
    }
  }

  private void awaitPrimaryReset(String credential, String method, URI target) {
    RateLimit limit = rateLimits.get(credential);
    if (limit == null || limit.remaining() > 0) {
      return;
    }
    Instant now = clock.instant();
    if (!limit.resetAt().isAfter(now)) {
      return;
    }
    Duration wait = Duration.between(now, limit.resetAt()).plus(settings.rateLimitResetMargin());
    if (wait.compareTo(settings.maxRateLimitWait()) > 0) {
      throw new GitHubException(
          method
              + " "
              + target
              + " not sent: the rate limit is used up until "
              + limit.resetAt()
              + ", longer than the client may wait ("
              + settings.maxRateLimitWait()
              + ")",
          OptionalInt.empty(),
          Optional.of(limit.resetAt()),
          null);
    }
    log.warn(
        "GitHub rate limit used up ({} of {}); waiting {} until {} before {} {}",
        limit.used(),
        limit.limit(),
        wait,
        limit.resetAt(),
        method,
        target);
    pause(WaitReason.RATE_LIMIT_RESET, wait, method, target);
  }

  private enum LimitKind {
    RETRY_AFTER("secondary rate limit, retry-after", WaitReason.SECONDARY_RATE_LIMIT),
    PRIMARY("rate limit used up", WaitReason.RATE_LIMIT_RESET),
    SECONDARY_BACKOFF("secondary rate limit", WaitReason.SECONDARY_RATE_LIMIT);

    private final String description;
    private final WaitReason waitReason;

    LimitKind(String description, WaitReason waitReason) {
      this.description = description;
      this.waitReason = waitReason;
    }

    String describe() {
      return description;
    }
  }

  private record Limited(LimitKind reason, Duration waitFor, Instant retryAt) {}

  /** Whether a response is a rate limit, and how long to wait before trying again. */
  private Optional<Limited> rateLimited(HttpResponse<byte[]> response, int previousWaits) {
    int status = response.statusCode();
    if (status != 403 && status != 429) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    Optional<Duration> retryAfter = retryAfter(response, now);
    if (retryAfter.isPresent()) {
      Duration wait = retryAfter.get();
      return Optional.of(new Limited(LimitKind.RETRY_AFTER, wait, now.plus(wait)));
    }
    OptionalLong remaining = longHeader(response, "x-ratelimit-remaining");
    OptionalLong reset = longHeader(response, "x-ratelimit-reset");
    if (remaining.isPresent() && remaining.getAsLong() == 0 && reset.isPresent()) {
      Instant resetAt = Instant.ofEpochSecond(reset.getAsLong());
      Duration wait =
          (resetAt.isAfter(now) ? Duration.between(now, resetAt) : Duration.ZERO)
              .plus(settings.rateLimitResetMargin());
      return Optional.of(new Limited(LimitKind.PRIMARY, wait, resetAt));
    }
    if (status == 429 || mentionsRateLimit(response)) {
      // No hint from GitHub: at least the configured backoff, doubling, with up to 25% jitter.
      Duration base = settings.secondaryLimitBackoff();
      long factor = 1L << Math.min(previousWaits, 20);
      Duration grown = multiply(base, factor);
      Duration wait = grown.plus(multiply(grown, random.nextDouble() * 0.25));
      if (wait.compareTo(settings.maxRateLimitWait()) > 0) {
        wait = max(settings.maxRateLimitWait(), base);
      }
      return Optional.of(new Limited(LimitKind.SECONDARY_BACKOFF, wait, now.plus(wait)));
    }
    return Optional.empty(); // an ordinary 403: no permission
  }

  private static Optional<Duration> retryAfter(HttpResponse<byte[]> response, Instant now) {
    Optional<String> value = response.headers().firstValue("retry-after").map(String::trim);
    if (value.isEmpty() || value.get().isEmpty()) {
      return Optional.empty();
    }
    try {
      long seconds = Long.parseLong(value.get());
      return Optional.of(Duration.ofSeconds(Math.max(0, seconds)));
    } catch (NumberFormatException notSeconds) {
      try {
        Instant at =
            ZonedDateTime.parse(value.get(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        return Optional.of(at.isAfter(now) ? Duration.between(now, at) : Duration.ZERO);
      } catch (DateTimeParseException e) {
        return Optional.empty();
      }
    }
  }

  private static boolean mentionsRateLimit(HttpResponse<byte[]> response) {
    String body = new String(response.body(), StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
    return body.contains("rate limit");
  }

  private void observeRateLimit(HttpResponse<byte[]> response, String credential) {
    OptionalLong remaining = longHeader(response, "x-ratelimit-remaining");
    OptionalLong reset = longHeader(response, "x-ratelimit-reset");
    if (remaining.isEmpty() || reset.isEmpty()) {
      return;
    }
    String resource = response.headers().firstValue("x-ratelimit-resource").orElse("core");
    if (!resource.equals("core")) {
      return; // another budget (search, graphql, ...) than the one our calls use
    }
    long limit = longHeader(response, "x-ratelimit-limit").orElse(-1);
    long used = longHeader(response, "x-ratelimit-used").orElse(limit - remaining.getAsLong());
    RateLimit observed =
        new RateLimit(
            (int) limit,
            (int) remaining.getAsLong(),
            (int) used,
            Instant.ofEpochSecond(reset.getAsLong()),
            resource);
    rateLimit.set(observed);
    rateLimits.put(credential, observed);
    notify(() -> listener.onRateLimit(credential, observed));
  }

  private URI redirect(HttpResponse<byte[]> response, String method, URI target, int redirects) {
    Optional<String> location = response.headers().firstValue("location");
    if (location.isEmpty()) {
      throw new GitHubException(
          method + " " + target + " -> " + response.statusCode() + " without a Location",
          response.statusCode());
    }
    URI next;
    try {
      next = target.resolve(location.get().trim());
    } catch (IllegalArgumentException e) {
      throw new GitHubException(
          method + " " + target + " -> " + response.statusCode() + " to an invalid Location",
          OptionalInt.of(response.statusCode()),
          e);
    }
    if (!sameOrigin(next, settings.baseUrl())) {
      throw new GitHubException(
          method
              + " "
              + target
              + " -> "
              + response.statusCode()
              + ": refusing to follow a redirect to "
              + origin(next)
              + ", which is not the API's origin",
          response.statusCode());
    }
    if (redirects > MAX_REDIRECTS) {
      throw new GitHubException(
          method + " " + target + ": more than " + MAX_REDIRECTS + " redirects",
          response.statusCode());
    }
    log.debug("{} {} -> {}, following to {}", method, target, response.statusCode(), next);
    return next;
  }

  private void pause(WaitReason reason, Duration duration, String method, URI target) {
    notify(() -> listener.onWait(reason, duration));
    try {
      sleeper.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw interrupted(method, target, e);
    }
  }

  /** Backoff after the {@code attempt}-th failure: base × 2^(attempt−1), capped, equal jitter. */
  private Duration backoff(int attempt) {
    Duration grown = multiply(settings.retryBaseDelay(), 1L << Math.min(attempt - 1, 20));
    if (grown.compareTo(settings.retryMaxDelay()) > 0) {
      grown = settings.retryMaxDelay();
    }
    Duration half = grown.dividedBy(2);
    return half.plus(multiply(half, random.nextDouble()));
  }

  private static Duration multiply(Duration d, double factor) {
    return Duration.ofNanos((long) Math.min(Long.MAX_VALUE / 2.0, d.toNanos() * factor));
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static Duration since(long startedNanos) {
    return Duration.ofNanos(System.nanoTime() - startedNanos);
  }

  private void notify(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.warn("GitHub listener failed; ignoring", e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private URI api(String pathAndQuery) {
    return URI.create(settings.baseUrl() + pathAndQuery);
  }

  private static String repoPath(String owner, String repo) {
    RepoName name = RepoName.of(owner, repo); // validated: only URL-safe characters remain
    return "/repos/" + name.owner() + "/" + name.name();
  }

  private static int checkNumber(int number) {
    if (number < 1) {
      throw new IllegalArgumentException("pull request number must be positive, was " + number);
    }
    return number;
  }

  private static String checkSha(String sha) {
    if (!GitHub.isSha(sha)) {
      throw new IllegalArgumentException("not a commit SHA: " + abbreviate(sha));
    }
    return sha;
  }

  private static JsonNode parse(byte[] body, String method, URI target, int status) {
    try {
      JsonNode json = JSON.readTree(body);
      if (json == null || json.isMissingNode()) {
        throw new GitHubException(
            method + " " + target + " -> " + status + " with an empty body, expected JSON", status);
      }
      return json;
    } catch (IOException e) {
      String detail =
          e instanceof JsonProcessingException
              ? ((JsonProcessingException) e).getOriginalMessage()
              : e.getMessage();
      throw new GitHubException(
          method + " " + target + " -> " + status + " with malformed JSON: " + abbreviate(detail),
          OptionalInt.of(status),
          e);
    }
  }

  private <T> T map(Fetched f, Function<JsonNode, T> mapper) {
    return map(f, f.json(), mapper);
  }

  private <T> T map(Fetched f, JsonNode node, Function<JsonNode, T> mapper) {
    try {
      return mapper.apply(node);
    } catch (GitHubJson.Malformed e) {
      if (cache != null && !f.notModified()) {
        // Nothing to gain from revalidating a body we cannot read.
        cache.remove(f.credential(), f.uri().toString());
      }
      throw malformed(f, e.getMessage());
    }
  }

  private static GitHubException malformed(Fetched f, String detail) {
    return new GitHubException(
        "GET " + f.uri() + " -> " + f.status() + " with an unexpected shape: " + detail,
        f.status());
  }

  private static GitHubException interrupted(String method, URI target, InterruptedException e) {
    return new GitHubException(
        method + " " + target + " interrupted", OptionalInt.empty(), e);
  }

  /** GitHub's {@code message} from an error body, or the start of a non-JSON body. */
  private static Optional<BoundedBody.TooLarge> causeTooLarge(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof BoundedBody.TooLarge tooLarge) {
        return Optional.of(tooLarge);
      }
    }
    return Optional.empty();
  }

  private static String errorText(HttpResponse<byte[]> response) {
    byte[] body = response.body();
    if (body == null || body.length == 0) {
      return "";
    }
    try {
      JsonNode json = JSON.readTree(body);
      if (json != null && json.path("message").isTextual()) {
        return ": " + abbreviate(json.path("message").textValue());
      }
    } catch (IOException notJson) {
      // fall through to the raw text
    }
    String text = new String(body, StandardCharsets.UTF_8).replaceAll("\\s+", " ").trim();
    return text.isEmpty() ? "" : ": " + abbreviate(text);
  }

  private static String abbreviate(String s) {
    if (s == null) {
      return "";
    }
    return s.length() <= MAX_ERROR_TEXT ? s : s.substring(0, MAX_ERROR_TEXT) + "...";
  }

  /**
   * {@code ConnectException: Connection refused}: the exception and the first message down its
   * cause chain (the JDK client's own exceptions often carry none: "ConnectException" alone says
   * little about an unreachable GitHub).
   */
  private static String describe(IOException e) {
    StringBuilder out = new StringBuilder(e.getClass().getSimpleName());
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        if (t != e) {
          out.append(" <- ").append(t.getClass().getSimpleName());
        }
        return out.append(": ").append(abbreviate(t.getMessage())).toString();
      }
      if (t instanceof java.nio.channels.UnresolvedAddressException) {
        return out.append(": host name not resolved").toString();
      }
    }
    if (e instanceof java.net.ConnectException) {
      out.append(": could not connect (connection refused, or the host is unreachable)");
    }
    return out.toString();
  }

  private static OptionalLong longHeader(HttpResponse<byte[]> response, String name) {
    Optional<String> v = response.headers().firstValue(name);
    if (v.isEmpty()) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(v.get().trim()));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  private static boolean isRedirect(int status) {
    return status == 301 || status == 302 || status == 307 || status == 308;
  }

  private static boolean sameOrigin(URI a, URI b) {
    return a.getScheme() != null
        && a.getHost() != null
        && a.getScheme().equalsIgnoreCase(b.getScheme())
        && a.getHost().equalsIgnoreCase(b.getHost())
        && port(a) == port(b);
  }

  private static int port(URI uri) {
    if (uri.getPort() != -1) {
      return uri.getPort();
    }
    return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
  }

  private static String origin(URI uri) {
    return uri.getScheme()
        + "://"
        + uri.getHost()
        + (uri.getPort() == -1 ? "" : ":" + uri.getPort());
  }

  @Override
  public String toString() {
    return "HttpGitHub[" + settings.baseUrl() + ", " + settings.auth() + "]";
  }
}
