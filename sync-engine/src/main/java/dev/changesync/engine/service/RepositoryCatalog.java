package dev.changesync.engine.service;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.RepoName;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.jdbi.v3.core.Jdbi;

/**
 * The list of tracked repositories, a page at a time in case-insensitive name order, keyed by the
 * last name of the previous page (a keyset, so pages stay consistent while repositories come and
 * go). "Now" is {@link DbTime}'s, as for repository status.
 */
public final class RepositoryCatalog {

  /** Repositories per page unless asked otherwise. */
  public static final int DEFAULT_LIMIT = 100;

  /** Most repositories per page. */
  public static final int MAX_LIMIT = 1000;

  private static final String PAGE =
      """
      with t as (select %1$s as now)
      select r.id, r.owner, r.name, r.full_name, s.*, t.now as status_now,
             coalesce(lf.stale_at > t.now, false) as lf_held,
             coalesce(lb.stale_at > t.now, false) as lb_held,
             coalesce(lr.stale_at > t.now, false) as lr_held,
             (select count(*) from refresh_hint h where h.repository_id = r.id)
               as pending_refresh_count
        from repository r
        join repository_sync_state s on s.repository_id = r.id
        cross join t
        %2$s
        %3$s
        %4$s
       where cast(:after_owner as text) is null
          or (lower(r.owner), lower(r.name)) > (lower(:after_owner), lower(:after_name))
       order by lower(r.owner), lower(r.name)
       limit :limit
      """
          .formatted(
              DbTime.NOW,
              StatusService.laneJoin("lf", Lanes.FETCH),
              StatusService.laneJoin("lb", Lanes.BACKFILL),
              StatusService.laneJoin("lr", Lanes.REFRESH));

  private final Jdbi jdbi;
  private final DbTime time;

  public RepositoryCatalog(Jdbi jdbi, DbTime time) {
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.time = requireNonNull(time, "time");
  }

  /**
   * Up to {@code limit} (1–{@value #MAX_LIMIT}) tracked repositories whose names sort after
   * {@code after} (empty: from the first).
   */
  public RepositoryList list(int limit, Optional<RepoName> after) {
    requireNonNull(after, "after");
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new BadInputException("invalid limit " + limit + ": from 1 to " + MAX_LIMIT);
    }
    return Database.call(
        () ->
            jdbi.withHandle(
                h -> {
                  List<Row> rows =
                      time.bind(h.createQuery(PAGE))
                          .bind("after_owner", after.map(RepoName::owner).orElse(null))
                          .bind("after_name", after.map(RepoName::name).orElse(null))
                          .bind("limit", limit + 1)
                          .map((rs, ctx) -> row(rs))
                          .list();
                  Instant now = rows.isEmpty() ? time.now(h) : rows.get(0).now();
                  List<RepositoryList.Entry> page = new ArrayList<>();
                  for (int i = 0; i < Math.min(limit, rows.size()); i++) {
                    page.add(rows.get(i).entry());
                  }
                  Optional<String> next =
                      rows.size() > limit
                          ? Optional.of(page.get(page.size() - 1).fullName())
                          : Optional.empty();
                  return new RepositoryList(now, page, next);
                }));
  }

  /** {@code limit} as a query parameter: blank means the default. */
  public static int limit(String text) {
    if (text == null || text.isBlank()) {
      return DEFAULT_LIMIT;
    }
    if (!text.strip().matches("[0-9]{1,9}")) {
      throw new BadInputException(
          "invalid limit '" + Inputs.printable(text) + "': a whole number from 1 to " + MAX_LIMIT);
    }
    return Integer.parseInt(text.strip());
  }

  private record Row(Instant now, RepositoryList.Entry entry) {}

  private static Row row(ResultSet rs) throws SQLException {
    SyncPhase.Facts facts =
        StatusService.facts(
            rs,
            rs.getBoolean("lf_held"),
            rs.getBoolean("lr_held"),
            rs.getBoolean("lb_held"),
            rs.getLong("pending_refresh_count"));
    Instant now = facts.now();
    Optional<Instant> nextRetry =
        Stream.of(facts.fetchRetryAfter(), facts.refreshRetryAfter(), facts.backfillRetryAfter())
            .flatMap(Optional::stream)
            .filter(at -> at.isAfter(now))
            .min(Instant::compareTo);
    return new Row(
        now,
        new RepositoryList.Entry(
            rs.getLong("id"),
            rs.getString("full_name"),
            facts.mode(),
            rs.getInt("backfill_priority"),
            facts.dirty(),
            Rows.optInstant(rs, "last_open_pr_scan_at"),
            Rows.optInstant(rs, "last_successful_fetch_at"),
            rs.getInt("open_pr_total"),
            rs.getInt("open_pr_current"),
            facts.openPrStale(),
            facts.openPrMissing(),
            facts.pendingRefreshCount(),
            Rows.optString(rs, "last_error"),
            Rows.optInstant(rs, "last_error_at"),
            rs.getInt("fetch_failure_count"),
            rs.getInt("refresh_failure_count"),
            rs.getInt("backfill_failure_count"),
            nextRetry,
            Rows.optInstant(rs, "github_not_found_at"),
            facts.converged(),
            facts.phase(),
            Rows.optInstant(rs, "last_webhook_at"),
            facts.fetchHeld(),
            facts.refreshHeld(),
            facts.backfillHeld()));
  }
}
