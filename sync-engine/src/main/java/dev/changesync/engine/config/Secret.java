package dev.changesync.engine.config;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * A secret setting (token, password, webhook secret). It never shows its value in {@code
 * toString()}, so it cannot leak into logs or error messages by accident; {@link #reveal()} says so
 * where the value is really needed.
 */
public final class Secret {

  private final String value;

  private Secret(String value) {
    this.value = value;
  }

  /** A secret of {@code value}, which must not be empty. */
  public static Secret of(String value) {
    requireNonNull(value, "value");
    if (value.isEmpty()) {
      throw new IllegalArgumentException("a secret must not be empty");
    }
    return new Secret(value);
  }

  /**
   * What is wrong with {@code token} as a bearer token sent in an HTTP header (blank, or not
   * printable ASCII without spaces); empty when nothing is. The message never shows the token.
   */
  public static Optional<String> bearerTokenProblem(String token) {
    requireNonNull(token, "token");
    if (token.isBlank()) {
      return Optional.of("token must not be blank");
    }
    if (token.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
      return Optional.of(
          "token must be printable ASCII without spaces (is there a stray newline?)");
    }
    return Optional.empty();
  }

  /** The value itself. Never log it. */
  public String reveal() {
    return value;
  }

  /** The value's UTF-8 bytes (a fresh copy). */
  public byte[] bytes() {
    return value.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * True when {@code candidate} equals this secret. Takes the same time wherever the two differ and
   * whatever their lengths (both are hashed first), so it can check a presented credential.
   */
  public boolean matches(String candidate) {
    if (candidate == null) {
      return false;
    }
    return MessageDigest.isEqual(sha256(value), sha256(candidate));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  @Override
  public String toString() {
    return "****";
  }
}
