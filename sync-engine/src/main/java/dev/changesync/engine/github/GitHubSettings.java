package dev.changesync.engine.github;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.config.Setting;
import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;

/**
 * How {@link HttpGitHub} reaches GitHub. Build with {@link #builder(GitHubAuth)}; every value has a
 * default but the credentials. Validated at construction; the message names the bad setting.
 * {@code toString()} never shows a token or key.
 *
 * @param baseUrl the REST API root: {@code https://api.github.com}, or {@code https://HOST/api/v3}
 *     for GitHub Enterprise Server; a trailing slash is dropped
 * @param auth the credentials
 * @param userAgent the {@code User-Agent} header (GitHub rejects requests without one)
 * @param connectTimeout how long to wait for a connection
 * @param requestTimeout how long one request may take, from sending to the full response
 * @param maxRetries how many times one call retries after a 5xx, a timeout or a network error
 * @param retryBaseDelay the first backoff after a 5xx or network error; it doubles per retry,
 *     with jitter
 * @param retryMaxDelay the longest backoff after a 5xx or network error
 * @param maxRateLimitRetries how many times one call waits and retries after a 403 / 429 rate-limit
 *     answer (primary or secondary)
 * @param secondaryLimitBackoff the first wait after a secondary rate limit that names no {@code
 *     retry-after} (GitHub asks for at least a minute); it doubles per retry, with jitter
 * @param maxRateLimitWait the longest the client waits for a rate limit at once; a longer wait is
 *     refused with a {@link GitHubException} carrying {@link GitHubException#retryAt()}
 * @param rateLimitResetMargin added to every wait for {@code x-ratelimit-reset}, for clock skew
 * @param pageSize {@code per_page} for listings (1 to 100)
 * @param cacheMaxBytes the budget of the conditional-request (ETag) cache, in bytes of cached
 *     bodies; 0 turns the cache off
 * @param tokenRefreshMargin how long before its expiry an App installation token is replaced
 */
public record GitHubSettings(
    URI baseUrl,
    GitHubAuth auth,
    String userAgent,
    Duration connectTimeout,
    Duration requestTimeout,
    int maxRetries,
    Duration retryBaseDelay,
    Duration retryMaxDelay,
    int maxRateLimitRetries,
    Duration secondaryLimitBackoff,
    Duration maxRateLimitWait,
    Duration rateLimitResetMargin,
    int pageSize,
    long cacheMaxBytes,
    Duration tokenRefreshMargin) {

  /** {@code https://api.github.com}. */
  public static final URI DEFAULT_BASE_URL = URI.create("https://api.github.com");

  /** The {@code X-GitHub-Api-Version} the client speaks. */
  public static final String API_VERSION = "2022-11-28";

  public GitHubSettings {
    baseUrl = normalizeBaseUrl(requireNonNull(baseUrl, "baseUrl"));
    requireNonNull(auth, "auth");
    requireNonNull(userAgent, "userAgent");
    if (userAgent.isBlank() || userAgent.chars().anyMatch(c -> c < ' ' || c >= 0x7f)) {
      throw new IllegalArgumentException("userAgent must be non-blank printable ASCII");
    }
    positive(connectTimeout, "connectTimeout");
    positive(requestTimeout, "requestTimeout");
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must be >= 0, was " + maxRetries);
    }
    positive(retryBaseDelay, "retryBaseDelay");
    positive(retryMaxDelay, "retryMaxDelay");
    if (retryMaxDelay.compareTo(retryBaseDelay) < 0) {
      throw new IllegalArgumentException(
          "retryMaxDelay ("
              + retryMaxDelay
              + ") must not be shorter than retryBaseDelay ("
              + retryBaseDelay
              + ")");
    }
    if (maxRateLimitRetries < 0) {
      throw new IllegalArgumentException(
          "maxRateLimitRetries must be >= 0, was " + maxRateLimitRetries);
    }
    positive(secondaryLimitBackoff, "secondaryLimitBackoff");
    positive(maxRateLimitWait, "maxRateLimitWait");
    requireNonNull(rateLimitResetMargin, "rateLimitResetMargin");
    if (rateLimitResetMargin.isNegative()) {
      throw new IllegalArgumentException(
          "rateLimitResetMargin must not be negative, was " + rateLimitResetMargin);
    }
    if (pageSize < 1 || pageSize > 100) {
      throw new IllegalArgumentException("pageSize must be 1 to 100, was " + pageSize);
    }
    if (cacheMaxBytes < 0) {
      throw new IllegalArgumentException("cacheMaxBytes must be >= 0, was " + cacheMaxBytes);
    }
    requireNonNull(tokenRefreshMargin, "tokenRefreshMargin");
    if (tokenRefreshMargin.isNegative()) {
      throw new IllegalArgumentException(
          "tokenRefreshMargin must not be negative, was " + tokenRefreshMargin);
    }
  }

  /**
   * The settings of {@code config}: its API URL and credentials ({@link GitHubAuth#from}), {@link
   * GitHubAuth#anonymous() anonymous} when none are configured (public repositories only, at
   * GitHub's unauthenticated rate limit); defaults for the rest.
   */
  public static GitHubSettings from(ChangesyncConfig config) {
    GitHubAuth auth = GitHubAuth.from(config).orElse(GitHubAuth.anonymous());
    return builder(auth).baseUrl(config.get(Setting.GITHUB_API_URL)).build();
  }

  /** Settings with every default, authenticating with {@code auth}. */
  public static GitHubSettings of(GitHubAuth auth) {
    return builder(auth).build();
  }

  public static Builder builder(GitHubAuth auth) {
    return new Builder(auth);
  }

  /** A builder starting from these settings. */
  public Builder toBuilder() {
    return new Builder(auth)
        .baseUrl(baseUrl)
        .userAgent(userAgent)
        .connectTimeout(connectTimeout)
        .requestTimeout(requestTimeout)
        .maxRetries(maxRetries)
        .retryBaseDelay(retryBaseDelay)
        .retryMaxDelay(retryMaxDelay)
        .maxRateLimitRetries(maxRateLimitRetries)
        .secondaryLimitBackoff(secondaryLimitBackoff)
        .maxRateLimitWait(maxRateLimitWait)
        .rateLimitResetMargin(rateLimitResetMargin)
        .pageSize(pageSize)
        .cacheMaxBytes(cacheMaxBytes)
        .tokenRefreshMargin(tokenRefreshMargin);
  }

  /** The default {@code User-Agent}: {@code changesync/<version>}. */
  public static String defaultUserAgent() {
    String version = GitHubSettings.class.getPackage().getImplementationVersion();
    return "changesync/" + (version == null ? "dev" : version);
  }

  private static void positive(Duration d, String name) {
    requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, was " + d);
    }
  }

  private static URI normalizeBaseUrl(URI uri) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http")) {
      throw new IllegalArgumentException(
          "baseUrl must be an http(s) URL like https://api.github.com or https://HOST/api/v3, was "
              + uri);
    }
    if (uri.getHost() == null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "baseUrl must have a host and no query or fragment, was " + uri);
    }
    if (uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException("baseUrl must not carry credentials");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    try {
      return new URI(scheme + "://" + uri.getRawAuthority() + path);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("baseUrl is not a valid URL: " + uri, e);
    }
  }

  /** Builds {@link GitHubSettings}; each setter names the record component it sets. */
  public static final class Builder {
    private final GitHubAuth auth;
    private URI baseUrl = DEFAULT_BASE_URL;
    private String userAgent = defaultUserAgent();
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private int maxRetries = 3;
    private Duration retryBaseDelay = Duration.ofSeconds(1);
    private Duration retryMaxDelay = Duration.ofSeconds(30);
    private int maxRateLimitRetries = 5;
    private Duration secondaryLimitBackoff = Duration.ofMinutes(1);
    private Duration maxRateLimitWait = Duration.ofMinutes(65);
    private Duration rateLimitResetMargin = Duration.ofSeconds(1);
    private int pageSize = 100;
    private long cacheMaxBytes = 32L * 1024 * 1024;
    private Duration tokenRefreshMargin = Duration.ofMinutes(5);

    private Builder(GitHubAuth auth) {
      this.auth = requireNonNull(auth, "auth");
    }

    public Builder baseUrl(URI url) {
      this.baseUrl = requireNonNull(url, "baseUrl");
      return this;
    }

    /**
     * @throws IllegalArgumentException when it is not a URL
     */
    public Builder baseUrl(String url) {
      requireNonNull(url, "baseUrl");
      try {
        return baseUrl(new URI(url.trim()));
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("baseUrl is not a valid URL: " + url, e);
      }
    }

    public Builder userAgent(String value) {
      this.userAgent = value;
      return this;
    }

    public Builder connectTimeout(Duration value) {
      this.connectTimeout = value;
      return this;
    }

    public Builder requestTimeout(Duration value) {
      this.requestTimeout = value;
      return this;
    }

    public Builder maxRetries(int value) {
      this.maxRetries = value;
      return this;
    }

    public Builder retryBaseDelay(Duration value) {
      this.retryBaseDelay = value;
      return this;
    }

    public Builder retryMaxDelay(Duration value) {
      this.retryMaxDelay = value;
      return this;
    }

    public Builder maxRateLimitRetries(int value) {
      this.maxRateLimitRetries = value;
      return this;
    }

    public Builder secondaryLimitBackoff(Duration value) {
      this.secondaryLimitBackoff = value;
      return this;
    }

    public Builder maxRateLimitWait(Duration value) {
      this.maxRateLimitWait = value;
      return this;
    }

    public Builder rateLimitResetMargin(Duration value) {
      this.rateLimitResetMargin = value;
      return this;
    }

    public Builder pageSize(int value) {
      this.pageSize = value;
      return this;
    }

    public Builder cacheMaxBytes(long value) {
      this.cacheMaxBytes = value;
      return this;
    }

    public Builder tokenRefreshMargin(Duration value) {
      this.tokenRefreshMargin = value;
      return this;
    }

    public GitHubSettings build() {
      return new GitHubSettings(
          baseUrl,
          auth,
          userAgent,
          connectTimeout,
          requestTimeout,
          maxRetries,
          retryBaseDelay,
          retryMaxDelay,
          maxRateLimitRetries,
          secondaryLimitBackoff,
          maxRateLimitWait,
          rateLimitResetMargin,
          pageSize,
          cacheMaxBytes,
          tokenRefreshMargin);
    }
  }
}
