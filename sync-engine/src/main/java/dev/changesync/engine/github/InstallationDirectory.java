package dev.changesync.engine.github;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.changesync.engine.github.InstallationTokens.AppCalls;
import dev.changesync.engine.repo.RepoName;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which installation of a GitHub App serves each repository owner: found with {@code GET
 * /repos/{owner}/{repo}/installation} (the app's JWT) the first time a repository of that owner is
 * read, then kept per owner — an App is installed once per account — for {@link #cacheFor}, or
 * until a 404 under the installation's token makes the client look again ({@link #forget}).
 * Owners match case-insensitively. Thread-safe; concurrent first reads of one owner may look it up
 * more than once, which is harmless.
 */
final class InstallationDirectory {

  private static final Logger log = LoggerFactory.getLogger(InstallationDirectory.class);

  /** How long an owner's installation is kept before it is looked up again. */
  static final Duration DEFAULT_CACHE_FOR = Duration.ofHours(1);

  private record Found(long installationId, Instant foundAt) {}

  private final String appId;
  private final AppCalls calls;
  private final InstantSource clock;
  private final Duration cacheFor;
  private final ConcurrentMap<String, Found> byOwner = new ConcurrentHashMap<>();

  InstallationDirectory(String appId, AppCalls calls, InstantSource clock, Duration cacheFor) {
    this.appId = requireNonNull(appId, "appId");
    this.calls = requireNonNull(calls, "calls");
    this.clock = requireNonNull(clock, "clock");
    this.cacheFor = requireNonNull(cacheFor, "cacheFor");
  }

  /**
   * The installation serving {@code owner}, looked up through {@code owner/repo} when not known.
   *
   * @throws GitHubException when the app is not installed there (status 404), or the lookup failed
   */
  long installationFor(String owner, String repo) {
    RepoName name = RepoName.of(owner, repo);
    String key = GitHubCredentials.ownerKey(name.owner());
    Instant now = clock.instant();
    Found found = byOwner.get(key);
    if (found != null && now.isBefore(found.foundAt().plus(cacheFor))) {
      return found.installationId();
    }
    String path = "/repos/" + name.owner() + "/" + name.name() + "/installation";
    JsonNode json;
    try {
      json = calls.asApp(RequestKind.INSTALLATION, "GET", path);
    } catch (GitHubException e) {
      if (e.status().orElse(0) == 404) {
        byOwner.remove(key);
        throw new GitHubException(
            "GitHub App "
                + appId
                + " is not installed on "
                + name.owner()
                + " (or cannot see "
                + name
                + "): GET "
                + path
                + " -> 404",
            OptionalInt.of(404),
            e);
      }
      throw e;
    }
    JsonNode id = json.get("id");
    if (id == null || !id.canConvertToLong() || id.asLong() <= 0) {
      throw new GitHubException(
          "GET " + path + " -> 200 with an unexpected shape: expected a positive 'id'",
          OptionalInt.of(200),
          null);
    }
    long installationId = id.asLong();
    Found previous = byOwner.put(key, new Found(installationId, now));
    if (previous == null || previous.installationId() != installationId) {
      log.info("GitHub App {}: {} is served by installation {}", appId, name.owner(), installationId);
    }
    return installationId;
  }

  /** The installation known for {@code owner}, without a request (empty when none is kept). */
  OptionalLong known(String owner) {
    Found found = byOwner.get(GitHubCredentials.ownerKey(owner));
    return found == null ? OptionalLong.empty() : OptionalLong.of(found.installationId());
  }

  /** Records that {@code installationId} serves {@code owner} (e.g. from an installation list). */
  void remember(String owner, long installationId) {
    byOwner.put(
        GitHubCredentials.ownerKey(owner), new Found(installationId, clock.instant()));
  }

  /** Forgets {@code owner}'s installation if it is still {@code installationId}. */
  void forget(String owner, long installationId) {
    byOwner.computeIfPresent(
        GitHubCredentials.ownerKey(owner),
        (k, found) -> found.installationId() == installationId ? null : found);
  }
}
