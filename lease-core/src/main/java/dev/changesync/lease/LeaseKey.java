package dev.changesync.lease;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * What a lease is held on: a resource (for example {@code repo:42}) and a lane of work on it (for
 * example {@code fetch}). Each lane of a resource has its own lease, so different lanes of one
 * resource may be held by different owners at the same time.
 */
public record LeaseKey(String resource, String lane) {

  /** Longest resource or lane name accepted; keeps keys index-friendly in every store. */
  public static final int MAX_LENGTH = 200;

  public LeaseKey {
    checkName("resource", resource);
    checkName("lane", lane);
  }

  public static LeaseKey of(String resource, String lane) {
    return new LeaseKey(resource, lane);
  }

  private static void checkName(String what, String value) {
    requireNonNull(value, what);
    checkArgument(!value.isBlank(), "%s must not be blank", what);
    checkArgument(
        value.length() <= MAX_LENGTH,
        "%s must be at most %s characters, got %s",
        what,
        MAX_LENGTH,
        value.length());
    checkArgument(
        value.strip().equals(value), "%s must not start or end with whitespace: '%s'", what, value);
  }

  @Override
  public String toString() {
    return "(" + resource + ", " + lane + ")";
  }
}
