package dev.changesync.engine.github;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * The credentials {@link HttpGitHub} sends, and how it chooses one per request: a fixed token (or
 * none), one fixed GitHub App installation, or — with {@link GitHubAuth.AppInstallations} — the
 * installation of each repository's owner, found by {@link InstallationDirectory}, with one token
 * per installation from {@link InstallationTokens}.
 *
 * <p>A credential's {@link Credential#identity() identity} names it in cache keys, stored ETags,
 * the shared rate-limit budget and metrics: {@code token:<hash prefix>}, {@code
 * installation:<app>:<installation id>}, {@code app:<app>} (the app's JWT) or {@code anonymous} —
 * never a secret.
 */
final class GitHubCredentials {

  private GitHubCredentials() {}

  /** What goes into one request's Authorization header, and whose it is. */
  interface Credential {
    /** The header value, or null for none. Never logged. */
    String authorization();

    /** Whose credential this is: a hash or an id, never the secret. */
    String identity();

    /** Whether a 401 may mean it should be renewed (installation tokens). */
    boolean renewable();
  }

  /**
   * Whom a request is for: a repository (read with the credential for its owner), the app itself
   * (its JWT), or one installation (that installation's token).
   */
  record Scope(String owner, String repo, long installationId) {
    static final Scope APP = new Scope(null, null, 0);

    static Scope repository(String owner, String repo) {
      return new Scope(requireNonNull(owner, "owner"), requireNonNull(repo, "repo"), 0);
    }

    static Scope installation(long installationId) {
      if (installationId <= 0) {
        throw new IllegalArgumentException(
            "installationId must be positive, was " + installationId);
      }
      return new Scope(null, null, installationId);
    }

    boolean isApp() {
      return owner == null && installationId == 0;
    }
  }

  /** Chooses the credential of each request. Thread-safe. */
  interface Credentials {
    /**
     * The credential for {@code scope}; may call GitHub (to buy a token or find an installation).
     *
     * @throws GitHubException when no credential for it can be had
     */
    Credential credential(Scope scope);

    /** A 401 answered {@code used}: forget it, so the next {@link #credential} renews it. */
    void invalidate(Credential used);

    /**
     * A 404 answered {@code used} for a repository: a different credential that may read it (the
     * owner's installation changed), or empty.
     */
    default Optional<Credential> rediscover(Scope scope, Credential used) {
      return Optional.empty();
    }

    /** The identity a repository of {@code owner} is read under, when known without a request. */
    Optional<String> identityFor(String owner);
  }

  static Credentials of(GitHubAuth auth, InstallationTokens tokens, InstallationDirectory directory) {
    if (auth instanceof GitHubAuth.Token token) {
      return new TokenCredentials(token);
    }
    if (auth instanceof GitHubAuth.App app) {
      return new FixedInstallation(tokens, app.installationId());
    }
    if (auth instanceof GitHubAuth.AppInstallations) {
      return new DiscoveredInstallations(tokens, requireNonNull(directory, "directory"));
    }
    return new AnonymousCredentials();
  }

  /**
   * One credential for every repository, never renewed: a personal token, or none. App-only
   * requests (installation lookups) are refused: there is no app.
   */
  private abstract static class SingleCredential implements Credentials, Credential {
    @Override
    public Credential credential(Scope scope) {
      if (scope.owner() == null) {
        throw notAnApp();
      }
      return this;
    }

    @Override
    public void invalidate(Credential used) {}

    @Override
    public Optional<String> identityFor(String owner) {
      return Optional.of(identity());
    }

    @Override
    public boolean renewable() {
      return false;
    }
  }

  /** No credentials: no Authorization header. */
  static final class AnonymousCredentials extends SingleCredential {
    @Override
    public String authorization() {
      return null;
    }

    @Override
    public String identity() {
      return "anonymous";
    }
  }

  static final class TokenCredentials extends SingleCredential {
    private final String authorization;
    private final String identity;

    TokenCredentials(GitHubAuth.Token token) {
      this.authorization = "Bearer " + token.token();
      this.identity = "token:" + sha256(token.token()).substring(0, 32);
    }

    @Override
    public String authorization() {
      return authorization;
    }

    @Override
    public String identity() {
      return identity;
    }

    @Override
    public String toString() {
      return "TokenCredentials[" + identity + "]";
    }
  }

  /** One installation's token for every repository: today's App behaviour. */
  static final class FixedInstallation implements Credentials {
    private final InstallationTokens tokens;
    private final long installationId;

    FixedInstallation(InstallationTokens tokens, long installationId) {
      this.tokens = tokens;
      this.installationId = installationId;
    }

    @Override
    public Credential credential(Scope scope) {
      if (scope.isApp()) {
        return tokens.jwt();
      }
      return tokens.token(scope.owner() != null ? installationId : scope.installationId());
    }

    @Override
    public void invalidate(Credential used) {
      tokens.invalidate(used);
    }

    @Override
    public Optional<String> identityFor(String owner) {
      return Optional.of(tokens.identity(installationId));
    }
  }

  /** The installation of each repository's owner, each with its own token. */
  static final class DiscoveredInstallations implements Credentials {
    private final InstallationTokens tokens;
    private final InstallationDirectory directory;

    DiscoveredInstallations(InstallationTokens tokens, InstallationDirectory directory) {
      this.tokens = tokens;
      this.directory = directory;
    }

    @Override
    public Credential credential(Scope scope) {
      if (scope.isApp()) {
        return tokens.jwt();
      }
      if (scope.owner() == null) {
        return tokens.token(scope.installationId());
      }
      long installationId = directory.installationFor(scope.owner(), scope.repo());
      try {
        return tokens.token(installationId);
      } catch (GitHubException e) {
        if (e.status().orElse(0) != 404) {
          throw e;
        }
        // The installation is gone (the app was uninstalled, perhaps installed again).
        directory.forget(scope.owner(), installationId);
        return tokens.token(directory.installationFor(scope.owner(), scope.repo()));
      }
    }

    @Override
    public void invalidate(Credential used) {
      tokens.invalidate(used);
    }

    @Override
    public Optional<Credential> rediscover(Scope scope, Credential used) {
      if (scope.owner() == null || !(used instanceof IssuedToken token)) {
        return Optional.empty();
      }
      directory.forget(scope.owner(), token.installationId());
      long now;
      try {
        now = directory.installationFor(scope.owner(), scope.repo());
      } catch (GitHubException notInstalled) {
        return Optional.empty();
      }
      return now == token.installationId() ? Optional.empty() : Optional.of(tokens.token(now));
    }

    @Override
    public Optional<String> identityFor(String owner) {
      return directory.known(owner).stream().mapToObj(tokens::identity).findFirst();
    }
  }

  /** An installation token GitHub issued, renewed at {@code renewAt}. */
  record IssuedToken(
      String token, long installationId, String identity, Instant renewAt, Instant expiresAt)
      implements Credential {
    @Override
    public String authorization() {
      return "Bearer " + token;
    }

    @Override
    public boolean renewable() {
      return true;
    }

    @Override
    public String toString() {
      return "IssuedToken[" + identity + ", expiresAt=" + expiresAt + "]";
    }
  }

  /** The app's own JWT, for the app's endpoints. */
  record Jwt(String value, String identity) implements Credential {
    @Override
    public String authorization() {
      return "Bearer " + value;
    }

    @Override
    public boolean renewable() {
      return false;
    }

    @Override
    public String toString() {
      return "Jwt[" + identity + "]";
    }
  }

  private static IllegalStateException notAnApp() {
    return new IllegalStateException(
        "this call needs GitHub App credentials (an app id and private key)");
  }

  static String ownerKey(String owner) {
    return owner.toLowerCase(Locale.ROOT);
  }

  static String sha256(String s) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
