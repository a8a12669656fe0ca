package dev.changesync.engine.github;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/**
 * One credential's rate limit as a client last saw it.
 *
 * @param credential the credential's identity ({@code installation:<app>:<id>}, {@code
 *     token:<hash prefix>} or {@code anonymous}; never a secret)
 * @param rateLimit the {@code x-ratelimit-*} headers of its last response that carried them
 * @param secondaryUntil when GitHub last imposed a secondary rate limit on it, until when
 */
public record CredentialRateLimit(
    String credential, RateLimit rateLimit, Optional<Instant> secondaryUntil) {
  public CredentialRateLimit {
    requireNonNull(credential, "credential");
    requireNonNull(rateLimit, "rateLimit");
    requireNonNull(secondaryUntil, "secondaryUntil");
  }
}
