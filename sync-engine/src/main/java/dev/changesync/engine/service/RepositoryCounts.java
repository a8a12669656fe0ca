package dev.changesync.engine.service;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/**
 * How many tracked repositories are in each state, for gauges: a fixed set of series whatever the
 * number of repositories (per-repository detail is the status API's). One aggregate over {@code
 * repository_sync_state}; the states overlap (a dirty repository may also be backing off).
 */
public final class RepositoryCounts {

  /** The states counted, in this order: the gauge's {@code state} label values. */
  public static final List<String> STATES =
      List.of(
          "tracked",
          "never_scanned",
          "dirty",
          "backing_off",
          "github_not_found",
          "backfill_off",
          "converged");

  private static final String COUNTS =
      """
      select count(*) as tracked,
             count(*) filter (where s.last_open_pr_scan_at is null) as never_scanned,
             count(*) filter (where s.dirty) as dirty,
             count(*) filter (where s.fetch_retry_after > %1$s or s.refresh_retry_after > %1$s
                                 or s.backfill_retry_after > %1$s) as backing_off,
             count(*) filter (where s.github_not_found_at is not null) as github_not_found,
             count(*) filter (where s.backfill_mode = 'off') as backfill_off,
             count(*) filter (where s.last_open_pr_scan_at is not null
                                and s.open_pr_current = s.open_pr_total
                                and not exists (select 1 from refresh_hint h
                                                 where h.repository_id = s.repository_id))
               as converged
        from repository_sync_state s
      """
          .formatted(DbTime.NOW);

  private final Jdbi jdbi;
  private final DbTime time;

  public RepositoryCounts(Jdbi jdbi, DbTime time) {
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.time = requireNonNull(time, "time");
  }

  /** The count of each of {@link #STATES}, read now. */
  public Map<String, Long> read() {
    return jdbi.withHandle(
        h ->
            time.bind(h.createQuery(COUNTS))
                .map(
                    (rs, ctx) -> {
                      Map<String, Long> counts = new LinkedHashMap<>();
                      for (String state : STATES) {
                        counts.put(state, rs.getLong(state));
                      }
                      return Map.copyOf(counts);
                    })
                .one());
  }
}
