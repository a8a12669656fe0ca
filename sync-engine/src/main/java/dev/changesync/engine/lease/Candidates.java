package dev.changesync.engine.lease;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * The work a {@link WorkLeases#claimNext} may pick: {@code sql} is a query returning a {@code
 * resource} column and whatever {@code orderBy} sorts by, referenced through the alias {@code c}
 * (for example {@code c.priority desc, c.resource}); {@code params} are its named parameters. The
 * lease row is available as {@code l}.
 */
public record Candidates(String sql, String orderBy, Map<String, Object> params) {
  public Candidates {
    requireNonNull(sql, "sql");
    requireNonNull(orderBy, "orderBy");
    params = Map.copyOf(params);
  }

  public static Candidates of(String sql, String orderBy) {
    return new Candidates(sql, orderBy, Map.of());
  }
}
