package dev.changesync.testkit.github;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One rate-limit budget of {@link FakeGitHub}: {@code limit} requests an hour, the window opening
 * with the first request. Guarded by the fake's lock.
 */
final class FakeBudget {

  private int limit;
  private int remaining;
  private Instant resetAt; // null until the first request opens a window

  FakeBudget(int limit) {
    this.limit = limit;
    this.remaining = limit;
  }

  /** Opens a new window when none is open or the current one has passed. */
  void roll(Instant now) {
    if (resetAt == null || !now.isBefore(resetAt)) {
      remaining = limit;
      resetAt = now.plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
    }
  }

  boolean exhausted() {
    return remaining <= 0;
  }

  void use() {
    remaining--;
  }

  void exhaust(Instant now) {
    roll(now);
    remaining = 0;
  }

  void set(int newLimit, int remainingNow, Instant reset) {
    limit = newLimit;
    remaining = remainingNow;
    resetAt = reset.truncatedTo(ChronoUnit.SECONDS);
  }

  int remaining(Instant now) {
    roll(now);
    return remaining;
  }

  Instant resetAt(Instant now) {
    roll(now);
    return resetAt;
  }

  /** GitHub's {@code x-ratelimit-*} headers for the current window. */
  Map<String, String> headers() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("x-ratelimit-limit", Integer.toString(limit));
    h.put("x-ratelimit-remaining", Integer.toString(Math.max(0, remaining)));
    h.put("x-ratelimit-used", Integer.toString(Math.max(0, limit - remaining)));
    h.put("x-ratelimit-reset", Long.toString(resetAt.getEpochSecond()));
    h.put("x-ratelimit-resource", "core");
    return h;
  }
}
