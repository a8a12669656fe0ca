package dev.changesync.lease;

import static java.util.Objects.requireNonNull;

import com.google.common.collect.Ordering;
import java.time.Duration;

/**
 * The timing a holder declares when it claims a lease. The lease records it, and whether the lease
 * is still {@link LeaseState#HELD} is always judged by the <em>holder's</em> policy, never by the
 * policy of whoever is looking: a claimer with a short policy cannot steal a fresh lease from a
 * holder with a long one.
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

  /**
   * Validates eagerly: every duration positive, {@code heartbeatEvery < staleAfter <= leaseFor}.
   * The message names the offending parameter and its value.
   */
  public LeasePolicy {
    requirePositive("leaseFor", leaseFor);
    requirePositive("heartbeatEvery", heartbeatEvery);
    requirePositive("staleAfter", staleAfter);
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
          "staleAfter ("
              + staleAfter
              + ") must not be longer than leaseFor ("
              + leaseFor
              + ")");
    }
  }

  /** The policy of the default TTL of 15 minutes: heartbeat every 10 s, stale after 30 s. */
  public static LeasePolicy defaults() {
    return ofTtl(DEFAULT_LEASE_FOR);
  }

  /**
   * Derives the policy from a TTL: heartbeat = TTL/6 clamped to [200 ms, 10 s]; stale-after =
   * max(3 × heartbeat, 1 s).
   */
  public static LeasePolicy ofTtl(Duration leaseFor) {
    requirePositive("leaseFor", leaseFor);
    Duration heartbeatEvery = defaultHeartbeatEvery(leaseFor);
    return of(leaseFor, heartbeatEvery, defaultStaleAfter(heartbeatEvery));
  }

  /** A fully explicit policy, validated like the canonical constructor. */
  public static LeasePolicy of(Duration leaseFor, Duration heartbeatEvery, Duration staleAfter) {
    return new LeasePolicy(leaseFor, heartbeatEvery, staleAfter);
  }

  /**
   * Derives what is not given from what is: {@code null} heartbeat or stale-after take their
   * defaults from the TTL (stale-after from the heartbeat actually used).
   */
  public static LeasePolicy withDefaults(
      Duration leaseFor, Duration heartbeatEveryOrNull, Duration staleAfterOrNull) {
    requirePositive("leaseFor", leaseFor);
    Duration heartbeatEvery =
        heartbeatEveryOrNull != null ? heartbeatEveryOrNull : defaultHeartbeatEvery(leaseFor);
    Duration staleAfter =
        staleAfterOrNull != null ? staleAfterOrNull : defaultStaleAfter(heartbeatEvery);
    return new LeasePolicy(leaseFor, heartbeatEvery, staleAfter);
  }

  static Duration defaultHeartbeatEvery(Duration leaseFor) {
    return Ordering.natural()
        .max(MIN_HEARTBEAT_EVERY, Ordering.natural().min(MAX_HEARTBEAT_EVERY, leaseFor.dividedBy(6)));
  }

  static Duration defaultStaleAfter(Duration heartbeatEvery) {
    return Ordering.natural().max(heartbeatEvery.multipliedBy(3), MIN_STALE_AFTER);
  }

  private static void requirePositive(String name, Duration value) {
    requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }
}
