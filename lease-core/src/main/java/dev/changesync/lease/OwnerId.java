package dev.changesync.lease;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

import com.google.common.base.CharMatcher;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Who holds a lease: {@code <worker-name>:<incarnation>}. The worker name is configured and stable
 * across restarts of one worker (default {@code <hostname>:<pid>}); the incarnation is unique per
 * process start, so a restarted worker can recognise — and free — the leases its previous
 * incarnation left behind.
 */
public record OwnerId(String workerName, String incarnation) {

  /** Longest owner id accepted, as {@code <worker-name>:<incarnation>}. */
  public static final int MAX_LENGTH = 255;

  private static final SecureRandom RANDOM = new SecureRandom();

  private static final CharMatcher INCARNATION_CHARS =
      CharMatcher.inRange('0', '9')
          .or(CharMatcher.inRange('A', 'Z'))
          .or(CharMatcher.inRange('a', 'z'))
          .or(CharMatcher.anyOf("_-"))
          .precomputed();

  public OwnerId {
    requireNonNull(workerName, "workerName");
    requireNonNull(incarnation, "incarnation");
    checkArgument(!workerName.isBlank(), "workerName must not be blank");
    checkArgument(
        !incarnation.isEmpty()
            && incarnation.length() <= 64
            && INCARNATION_CHARS.matchesAllOf(incarnation),
        "incarnation must be 1-64 characters of [0-9A-Za-z_-], got '%s'",
        incarnation);
    // The owner id string is "<workerName>:<incarnation>"; it must fit in 255 characters.
    checkArgument(
        workerName.length() + 1 + incarnation.length() <= MAX_LENGTH,
        "owner id must be at most %s characters, got %s",
        MAX_LENGTH,
        workerName.length() + 1 + incarnation.length());
  }

  /** A new owner id for a process start of {@code workerName}, with a random incarnation. */
  public static OwnerId newIncarnation(String workerName) {
    byte[] bytes = new byte[8];
    RANDOM.nextBytes(bytes);
    return new OwnerId(workerName, HexFormat.of().formatHex(bytes));
  }

  /**
   * Parses {@code <worker-name>:<incarnation>}. The incarnation is what follows the last colon, so
   * worker names may contain colons (the default {@code host:pid} does).
   */
  public static OwnerId parse(String ownerId) {
    requireNonNull(ownerId, "ownerId");
    int colon = ownerId.lastIndexOf(':');
    checkArgument(
        colon > 0 && colon < ownerId.length() - 1,
        "owner id must look like <worker-name>:<incarnation>, got '%s'",
        ownerId);
    return new OwnerId(ownerId.substring(0, colon), ownerId.substring(colon + 1));
  }

  /** True when {@code other} is a different process start of the same worker name. */
  public boolean isOtherIncarnationOf(OwnerId other) {
    return workerName.equals(other.workerName) && !incarnation.equals(other.incarnation);
  }

  @Override
  public String toString() {
    return workerName + ":" + incarnation;
  }
}
