package dev.changesync.engine.github;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.changesync.engine.github.GitHubCredentials.Credential;
import dev.changesync.engine.github.GitHubCredentials.IssuedToken;
import dev.changesync.engine.github.GitHubCredentials.Jwt;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GitHub App installation tokens, one per installation: a JWT signed with the app's key buys a
 * token at {@code POST /app/installations/{id}/access_tokens}; it is reused until {@link
 * GitHubSettings#tokenRefreshMargin()} before it expires (or half its life, if that is shorter).
 * Installations never wait for each other: each has its own lock, held only while its token is
 * bought.
 */
final class InstallationTokens {

  private static final Logger log = LoggerFactory.getLogger(InstallationTokens.class);

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The app's own endpoints, called with its JWT; a non-2xx answer is a GitHubException. */
  interface AppCalls {
    JsonNode asApp(RequestKind kind, String method, String path);
  }

  private final String appId;
  private final PrivateKey privateKey;
  private final InstantSource clock;
  private final Duration refreshMargin;
  private final AppCalls calls;
  private final ConcurrentMap<Long, Slot> slots = new ConcurrentHashMap<>();

  private static final class Slot {
    volatile IssuedToken current;
  }

  InstallationTokens(
      String appId,
      PrivateKey privateKey,
      InstantSource clock,
      Duration refreshMargin,
      AppCalls calls) {
    this.appId = requireNonNull(appId, "appId");
    this.privateKey = requireNonNull(privateKey, "privateKey");
    this.clock = requireNonNull(clock, "clock");
    this.refreshMargin = requireNonNull(refreshMargin, "refreshMargin");
    this.calls = requireNonNull(calls, "calls");
  }

  String appId() {
    return appId;
  }

  /** The identity of {@code installationId}'s tokens: {@code installation:<app>:<id>}. */
  String identity(long installationId) {
    return "installation:" + appId + ":" + installationId;
  }

  /** A live token of the installation: the one held, or a new one when it is due for renewal. */
  IssuedToken token(long installationId) {
    Slot slot = slots.computeIfAbsent(installationId, id -> new Slot());
    IssuedToken token = slot.current;
    if (token != null && clock.instant().isBefore(token.renewAt())) {
      return token;
    }
    synchronized (slot) {
      token = slot.current;
      if (token != null && clock.instant().isBefore(token.renewAt())) {
        return token;
      }
      token = issue(installationId);
      slot.current = token;
      return token;
    }
  }

  /** Forgets {@code used} (GitHub refused it), so the next {@link #token} buys a new one. */
  void invalidate(Credential used) {
    if (!(used instanceof IssuedToken token)) {
      return;
    }
    Slot slot = slots.get(token.installationId());
    if (slot != null) {
      synchronized (slot) {
        if (slot.current == used) {
          slot.current = null;
        }
      }
    }
  }

  Jwt jwt() {
    long now = clock.instant().getEpochSecond();
    ObjectNode header = JSON.createObjectNode().put("alg", "RS256").put("typ", "JWT");
    ObjectNode payload = JSON.createObjectNode().put("iat", now - 60).put("exp", now + 9 * 60);
    if (appId.chars().allMatch(Character::isDigit) && appId.length() < 18) {
      payload.put("iss", Long.parseLong(appId));
    } else {
      payload.put("iss", appId);
    }
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    try {
      String signingInput =
          b64.encodeToString(JSON.writeValueAsBytes(header))
              + "."
              + b64.encodeToString(JSON.writeValueAsBytes(payload));
      Signature signer = Signature.getInstance("SHA256withRSA");
      signer.initSign(privateKey);
      signer.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return new Jwt(signingInput + "." + b64.encodeToString(signer.sign()), "app:" + appId);
    } catch (JsonProcessingException | GeneralSecurityException e) {
      throw new GitHubException(
          "cannot sign a GitHub App JWT for app " + appId + ": " + e.getClass().getName(),
          OptionalInt.empty(),
          null);
    }
  }

  private IssuedToken issue(long installationId) {
    String path = "/app/installations/" + installationId + "/access_tokens";
    Instant requested = clock.instant();
    JsonNode json = calls.asApp(RequestKind.ACCESS_TOKEN, "POST", path);
    JsonNode token = json.get("token");
    JsonNode expires = json.get("expires_at");
    if (token == null || !token.isTextual() || expires == null || !expires.isTextual()) {
      throw malformed(path, "expected 'token' and 'expires_at'");
    }
    Instant expiresAt;
    try {
      expiresAt = OffsetDateTime.parse(expires.textValue()).toInstant();
    } catch (DateTimeParseException e) {
      throw malformed(path, "'expires_at' is not a timestamp");
    }
    Instant renewAt = expiresAt.minus(refreshMargin);
    if (!renewAt.isAfter(requested)) {
      renewAt = requested.plus(Duration.between(requested, expiresAt).dividedBy(2));
    }
    log.info(
        "Got a GitHub App installation token for installation {} (expires {})",
        installationId,
        expiresAt);
    return new IssuedToken(
        token.textValue(), installationId, identity(installationId), renewAt, expiresAt);
  }

  private static GitHubException malformed(String path, String detail) {
    return new GitHubException(
        "POST " + path + " -> 201 with an unexpected shape: " + detail, OptionalInt.empty(), null);
  }
}
