package dev.changesync.lease;

import static java.util.Objects.requireNonNull;

import com.google.common.collect.Ordering;
import java.time.Duration;
import java.time.temporal.ChronoUnit;

/**
 * The timing a holder declares when it claims a lease. The lease records it, and whether the lease
 * is still {@link LeaseState#HELD} is always judged by the <em>holder's</em> policy, never by the
 * policy of whoever is looking: a claimer with a short policy cannot steal a fresh lease from a
 * holder with a long one.
 *
 * <p>Durations have millisecond precision: finer parts are truncated, so a policy survives a round
 * trip through any store (PostgreSQL keeps microseconds at most) and equals itself afterwards.
 *
 * @param leaseFor how long one claim or heartbeat keeps the lease (the TTL): expires-at = now +
 *     leaseFor
 * @param heartbeatEvery how often the holder renews
 * @param staleAfter how long without a heartbeat before the lease is stale and may be reclaimed
 */
public record LeasePolicy(Duration leaseFor, Duration heartbeatEvery, Duration staleAfter) {

  public static final Duration DEFAULT_LEASE_FOR = Duration.ofMinutes(15);
  static final Duration MIN_HEARTBEAT_EVERY = Duration.ofMillis(200);
  static final Duration MAX_HEARTBEAT_EVERY = Duration.ofSeconds(10);
  static final Duration MIN_STALE_AFTER = Duration.ofSeconds(1);
  private static final Duration RESOLUTION = Duration.ofMillis(1);

  /**
   * Validates eagerly: every duration at least 1 ms, {@code heartbeatEvery < staleAfter <=
   * leaseFor}. The message names the offending parameter and its value.
   */
  public LeasePolicy {
    leaseFor = requirePositive("leaseFor", leaseFor);
    heartbeatEvery = requirePositive("heartbeatEvery", heartbeatEvery);
    staleAfter = requirePositive("staleAfter", staleAfter);
    if (heartbeatEvery.compareTo(staleAfter) >= 0) {
      throw new IllegalArgumentException(
          "heartbeatEvery ("
              + heartbeatEvery
              + ") must be shorter than staleAfter ("
              + staleAfter
              + "): a holder must get several chances to heartbeat before its lease goes stale");
    }
    if (staleAfter.compareTo(leaseFor) > 0) {
      throw new IllegalArgumentException(
          "staleAfter (" + staleAfter + ") must not be longer than leaseFor (" + leaseFor + ")");
    }
  }

  /** The policy of the default TTL of 15 minutes: heartbeat every 10 s, stale after 30 s. */
  public static LeasePolicy defaults() {
    return ofTtl(DEFAULT_LEASE_FOR);
  }

  /**
   * Derives the policy from a TTL: heartbeat = TTL/6 clamped to [200 ms, 10 s]; stale-after = max(3
   * × heartbeat, 1 s). A TTL shorter than 1 s is rejected (the derived stale-after would outlive
   * the lease); give such a policy explicitly with {@link #of}.
   */
  public static LeasePolicy ofTtl(Duration leaseFor) {
    return withDefaults(leaseFor, null, null);
  }

  /** A fully explicit policy, validated like the canonical constructor. */
  public static LeasePolicy of(Duration leaseFor, Duration heartbeatEvery, Duration staleAfter) {
    return new LeasePolicy(leaseFor, heartbeatEvery, staleAfter);
  }

  /**
   * Derives what is not given from what is. A {@code null} heartbeat is TTL/6 clamped to [200 ms,
   * 10 s] — or a third of an explicit stale-after when that is shorter, so that setting only the
   * stale-after works. A {@code null} stale-after is max(3 × heartbeat, 1 s), from the heartbeat
   * actually used; when that would be longer than the TTL the policy is rejected with a message
   * naming {@code leaseFor}.
   */
  public static LeasePolicy withDefaults(
      Duration leaseFor, Duration heartbeatEveryOrNull, Duration staleAfterOrNull) {
    leaseFor = requirePositive("leaseFor", leaseFor);
    Duration heartbeatEvery = heartbeatEveryOrNull;
    if (heartbeatEvery == null) {
      heartbeatEvery = defaultHeartbeatEvery(leaseFor);
      if (staleAfterOrNull != null && heartbeatEvery.compareTo(staleAfterOrNull) >= 0) {
        heartbeatEvery =
            Ordering.natural().max(RESOLUTION, truncate(staleAfterOrNull.dividedBy(3)));
      }
    }
    Duration staleAfter = staleAfterOrNull;
    if (staleAfter == null) {
      staleAfter = defaultStaleAfter(truncate(heartbeatEvery));
      if (staleAfter.compareTo(leaseFor) > 0) {
        throw new IllegalArgumentException(
            "leaseFor ("
                + leaseFor
                + ") is shorter than the staleAfter derived from it ("
                + staleAfter
                + " = max(3 × heartbeatEvery "
                + truncate(heartbeatEvery)
                + ", "
                + MIN_STALE_AFTER
                + ")): use a leaseFor of at least "
                + staleAfter
                + ", or set staleAfter explicitly");
      }
    }
    return new LeasePolicy(leaseFor, heartbeatEvery, staleAfter);
  }

  static Duration defaultHeartbeatEvery(Duration leaseFor) {
    return truncate(
        Ordering.natural()
            .max(
                MIN_HEARTBEAT_EVERY,
                Ordering.natural().min(MAX_HEARTBEAT_EVERY, leaseFor.dividedBy(6))));
  }

  static Duration defaultStaleAfter(Duration heartbeatEvery) {
    return Ordering.natural().max(heartbeatEvery.multipliedBy(3), MIN_STALE_AFTER);
  }

  private static Duration truncate(Duration value) {
    return value.truncatedTo(ChronoUnit.MILLIS);
  }

  /** Checks a duration is at least the resolution, and returns it truncated to it. */
  private static Duration requirePositive(String name, Duration value) {
    requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
    if (value.compareTo(RESOLUTION) < 0) {
      throw new IllegalArgumentException(name + " must be at least 1 ms, got " + value);
    }
    return truncate(value);
  }
}
