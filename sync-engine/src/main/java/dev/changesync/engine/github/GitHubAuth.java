package dev.changesync.engine.github;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.config.PemKeys;
import dev.changesync.engine.config.Secret;
import dev.changesync.engine.config.Setting;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.Optional;

/**
 * How the client authenticates: a {@link Token} (personal or fine-grained access token, or any
 * token GitHub accepts as {@code Authorization: Bearer}), a GitHub {@link App} installation, or
 * {@link AppInstallations} (a GitHub App whose installation is found per repository owner), or
 * {@link Anonymous} (no credentials: public repositories only, 60 requests an hour on github.com).
 * {@code toString()} never shows a token or a key.
 */
public sealed interface GitHubAuth
    permits GitHubAuth.Token, GitHubAuth.App, GitHubAuth.AppInstallations, GitHubAuth.Anonymous {

  /**
   * No credentials: requests carry no {@code Authorization} header. GitHub then serves public
   * repositories only, answers 404 for private ones, and allows 60 requests an hour per address
   * (conditional requests answered 304 cost none).
   */
  static Anonymous anonymous() {
    return Anonymous.INSTANCE;
  }

  /** A token sent as {@code Authorization: Bearer <token>}. */
  static Token token(String token) {
    return new Token(token);
  }

  /**
   * A GitHub App installation, the private key given as PEM text ({@code BEGIN RSA PRIVATE KEY},
   * as GitHub issues it, or PKCS#8 {@code BEGIN PRIVATE KEY}).
   *
   * @throws IllegalArgumentException when the key cannot be read (the message does not show it)
   */
  static App app(String appId, long installationId, String privateKeyPem) {
    return new App(appId, installationId, PemKeys.privateKey(privateKeyPem));
  }

  /**
   * A GitHub App installation, the private key read from a PEM file.
   *
   * @throws UncheckedIOException when the file cannot be read
   * @throws IllegalArgumentException when it holds no usable key
   */
  static App app(String appId, long installationId, Path privateKeyPemFile) {
    requireNonNull(privateKeyPemFile, "privateKeyPemFile");
    String pem;
    try {
      pem = Files.readString(privateKeyPemFile, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the GitHub App private key " + privateKeyPemFile + ": " + e.getMessage(), e);
    }
    try {
      return new App(appId, installationId, PemKeys.privateKey(pem));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(privateKeyPemFile + ": " + e.getMessage(), e);
    }
  }

  /**
   * The credentials of {@code config}: a token from {@code CHANGESYNC_GITHUB_TOKEN}, or a GitHub
   * App from {@code CHANGESYNC_GITHUB_APP_ID}, {@code _PRIVATE_KEY_PATH} (the key already read and
   * parsed) and, when set, {@code _INSTALLATION_ID}; empty when neither is configured.
   */
  static Optional<GitHubAuth> from(ChangesyncConfig config) {
    Optional<Secret> token = config.find(Setting.GITHUB_TOKEN);
    if (token.isPresent()) {
      return Optional.of(token(token.get().reveal()));
    }
    return config
        .githubAppPrivateKey()
        .map(
            key -> {
              String appId = config.get(Setting.GITHUB_APP_ID);
              Optional<Long> installation = config.find(Setting.GITHUB_APP_INSTALLATION_ID);
              return installation.isPresent()
                  ? new App(appId, installation.get(), key)
                  : new AppInstallations(appId, key);
            });
  }

  /**
   * A GitHub App without a fixed installation: the client finds the installation of each
   * repository's owner ({@code GET /repos/{owner}/{repo}/installation}) and reads the repository
   * with that installation's token.
   *
   * @throws IllegalArgumentException when the key cannot be read (the message does not show it)
   */
  static AppInstallations app(String appId, String privateKeyPem) {
    return new AppInstallations(appId, PemKeys.privateKey(privateKeyPem));
  }

  /**
   * {@link #app(String, String)} with the private key read from a PEM file.
   *
   * @throws UncheckedIOException when the file cannot be read
   * @throws IllegalArgumentException when it holds no usable key
   */
  static AppInstallations app(String appId, Path privateKeyPemFile) {
    App fixed = app(appId, 1, privateKeyPemFile);
    return new AppInstallations(fixed.appId(), fixed.privateKey());
  }

  /** A personal (or other bearer) token. */
  record Token(String token) implements GitHubAuth {
    public Token {
      Secret.bearerTokenProblem(token)
          .ifPresent(
              problem -> {
                throw new IllegalArgumentException(problem);
              });
    }

    @Override
    public String toString() {
      return "Token[***]";
    }
  }

  /**
   * A GitHub App installation: the client signs a short-lived RS256 JWT with {@code privateKey}
   * (issuer {@code appId}, the app's id or client id) and exchanges it for an installation token.
   */
  record App(String appId, long installationId, PrivateKey privateKey) implements GitHubAuth {
    public App {
      requireNonNull(appId, "appId");
      requireNonNull(privateKey, "privateKey");
      if (appId.isBlank() || appId.chars().anyMatch(c -> c <= ' ' || c >= 0x7f || c == '"')) {
        throw new IllegalArgumentException("appId must be a non-blank id without spaces or quotes");
      }
      if (installationId <= 0) {
        throw new IllegalArgumentException(
            "installationId must be positive, was " + installationId);
      }
      if (!privateKey.getAlgorithm().equals("RSA")) {
        throw new IllegalArgumentException(
            "privateKey must be an RSA key, was " + privateKey.getAlgorithm());
      }
    }

    @Override
    public String toString() {
      return "App[appId=" + appId + ", installationId=" + installationId + ", privateKey=***]";
    }
  }

  /**
   * A GitHub App whose installations are found per repository owner (see {@link #app(String,
   * String)}); each installation gets its own token.
   */
  record AppInstallations(String appId, PrivateKey privateKey) implements GitHubAuth {
    public AppInstallations {
      new App(appId, 1, privateKey); // the same checks
    }

    @Override
    public String toString() {
      return "AppInstallations[appId=" + appId + ", privateKey=***]";
    }
  }

  /** No credentials (see {@link GitHubAuth#anonymous()}). */
  record Anonymous() implements GitHubAuth {
    static final Anonymous INSTANCE = new Anonymous();
  }
}
