package dev.changesync.engine.service;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/**
 * One GitHub credential's rate limit as last seen by any worker (the shared budget work picking
 * goes by).
 *
 * @param credential its identity: {@code installation:<app>:<id>}, {@code token:<hash prefix>} or
 *     {@code anonymous} — never a secret
 * @param remaining requests left in the window
 * @param limit requests per window
 * @param resetAt when the window ends
 * @param secondaryUntil until when GitHub imposed a secondary rate limit, if it did
 * @param seenAt when a worker last reported it (database time)
 */
public record GitHubCredential(
    String credential,
    int remaining,
    int limit,
    Instant resetAt,
    Optional<Instant> secondaryUntil,
    Instant seenAt) {
  public GitHubCredential {
    requireNonNull(credential, "credential");
    requireNonNull(resetAt, "resetAt");
    secondaryUntil = secondaryUntil == null ? Optional.empty() : secondaryUntil;
    requireNonNull(seenAt, "seenAt");
  }

  /** Whether work under it waits at {@code now}: used up before its reset, or a secondary limit. */
  public boolean exhaustedAt(Instant now) {
    return (remaining <= 0 && resetAt.isAfter(now))
        || secondaryUntil.map(now::isBefore).orElse(false);
  }
}
