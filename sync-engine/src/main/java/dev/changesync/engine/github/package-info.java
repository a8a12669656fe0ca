/**
 * The GitHub REST client: the {@link dev.changesync.engine.github.GitHub} interface the lanes use,
 * its value records, and {@link dev.changesync.engine.github.HttpGitHub}, the implementation over
 * {@code java.net.http} and Jackson.
 *
 * <h2>Building one</h2>
 *
 * <pre>{@code
 * GitHubSettings settings =
 *     GitHubSettings.builder(GitHubAuth.token(System.getenv("CHANGESYNC_GITHUB_TOKEN")))
 *         .baseUrl("https://github.example.com/api/v3")      // GitHub Enterprise Server
 *         .build();
 * GitHub gitHub = HttpGitHub.builder(settings)
 *     .listener(metricsListener)                              // optional
 *     .build();
 * }</pre>
 *
 * <p>For a GitHub App, {@code GitHubAuth.app(appId, installationId, Path.of("app.pem"))}; the
 * client signs a JWT, buys an installation token and renews it before it expires. For an app
 * installed on many accounts, {@code GitHubAuth.app(appId, Path.of("app.pem"))}: the client finds
 * each repository owner's installation and keeps one token per installation.
 *
 * <h2>Time</h2>
 *
 * GitHub's rate-limit resets ({@code x-ratelimit-reset}) and installation-token expiries are
 * wall-clock instants from GitHub; the client compares them with the injected {@link
 * java.time.InstantSource} (the system clock in production — GitHub's clock is the authority here,
 * not the database's) and waits through the injected {@link dev.changesync.engine.github.Sleeper}.
 * A test injects a clock it moves and a sleeper that moves it, so a one-hour rate-limit wait takes
 * no time at all. Request durations reported to a {@link
 * dev.changesync.engine.github.GitHubListener} are measured with {@code System.nanoTime()}.
 *
 * <h2>What a call costs</h2>
 *
 * A repository or pull request is one request; a listing is one request per page ({@code per_page}
 * 100). A GET repeated with the same credential is conditional: when nothing changed GitHub answers
 * 304, which costs no rate limit, and the client serves its cached body ({@link
 * dev.changesync.engine.github.GitHub.ListingStats#notModifiedPages()} counts these pages). The
 * calls taking {@link dev.changesync.engine.github.KnownETags} send the caller's stored {@code
 * ETag} (the sync lanes keep them in PostgreSQL, so they outlive the process) and answer {@link
 * dev.changesync.engine.github.Conditional.Unchanged} on a 304, with no body.
 *
 * <h2>Failures</h2>
 *
 * Everything that goes wrong with GitHub surfaces as {@link
 * dev.changesync.engine.github.GitHubException} after the client's own retries: {@code
 * isNotFound()} for 404 / 410, {@code isRateLimited()} with {@code retryAt()} for a rate limit the
 * client would not wait out, {@code isInterrupted()} when the calling thread was interrupted, and
 * the HTTP status otherwise. Invalid owner / repository names and non-positive PR numbers are
 * rejected with {@link java.lang.IllegalArgumentException} before any request.
 */
package dev.changesync.engine.github;
