package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.lease.PostgresLeaseStore.Candidates;
import dev.changesync.engine.repo.Lanes;
import java.util.Map;

/**
 * The candidate queries of work picking, one per {@link WorkKind}, handed to {@link
 * dev.changesync.engine.lease.PostgresLeaseStore#claimNext}: it joins them with the lane's lease
 * rows, keeps the claimable ones, takes the first in the query's order and locks it {@code FOR
 * UPDATE SKIP LOCKED} — so many workers polling at once each get different work instead of racing
 * for the same row.
 *
 * <p>Each query is driven by an index of V1: {@code repository_sync_state_never_scanned} and
 * {@code repository_sync_state_dirty} (requested fetches), {@code refresh_hint_repository} and
 * the primary key of {@code refresh_hint} (refreshes, see {@link #REFRESH}), {@code
 * repository_sync_state_backfill_order} and {@code open_pr_backfill_walk} (backfill), {@code
 * repository_sync_state_scan_age} (periodic fetches). Per-lane {@code
 * retry_after} filters backed-off repositories inside those indexes. An idle poll is four small
 * index scans.
 *
 * <p>"Now" is {@link DbTime#NOW}, bound by {@code claimNext} itself, so picking and the lease
 * decision use the same clock.
 */
final class WorkPicker {

  private static final String NOW = DbTime.NOW;

  private final SyncSettings settings;

  WorkPicker(SyncSettings settings) {
    this.settings = requireNonNull(settings, "settings");
  }

  private static String ago(String param) {
    return "(%s - :%s * interval '1 microsecond')".formatted(NOW, param);
  }

  /**
   * A lane may run: the repository's backfill mode is not {@code off} (which means no work of any
   * lane), GitHub has not said it does not exist, and the lane does not back off.
   */
  private static String notBackedOff(String lane) {
    return ("(s.%1$s_retry_after is null or s.%1$s_retry_after <= %2$s)"
            + " and s.backfill_mode <> 'off' and s.github_not_found_at is null")
        .formatted(lane, NOW);
  }

  private static final String RESOURCE = Lanes.resourceSql("s.repository_id") + " as resource";

  private static final String REQUESTED_FETCH =
      """
      select %1$s, 0 as rank, s.dirty_since as since, s.repository_id
        from repository_sync_state s
       where s.last_open_pr_scan_at is null and %2$s
      union all
      select %1$s, 1 as rank, s.dirty_since as since, s.repository_id
        from repository_sync_state s
       where s.dirty and s.dirty_since <= %3$s and %2$s
         and s.last_open_pr_scan_at is not null
         and (s.last_fetch_started_at is null or s.last_fetch_started_at <= %4$s)
      """
          .formatted(RESOURCE, notBackedOff("fetch"), ago("debounce_us"), ago("min_fetch_us"));

  private static final String PERIODIC_FETCH =
      """
      select %1$s, s.last_open_pr_scan_at as since, s.repository_id
        from repository_sync_state s
       where s.last_open_pr_scan_at <= %2$s and %3$s
         and (s.last_fetch_started_at is null or s.last_fetch_started_at <= %4$s)
      """
          .formatted(RESOURCE, ago("max_age_us"), notBackedOff("fetch"), ago("min_fetch_us"));

  /**
   * Refresh: repositories with a due hint, the one whose oldest due hint arrived first. The work
   * grows with the repositories that have hints, never with the hints: a loose index scan (the
   * recursive part) steps from one repository with hints to the next — one probe of an index on
   * {@code refresh_hint} leading with {@code repository_id} per repository, a single probe when
   * there are no hints — and for each one {@code refresh_hint_repository} ({@code repository_id,
   * first_seen_at}) yields its hints in arrival order until the first due one. Grouping the hints
   * instead ({@code min(first_seen_at) ... group by repository_id}) reads every pending hint on
   * every poll: 100,000 of them after a webhook flood (docs/benchmarks.md).
   */
  private static final String REFRESH =
      """
      with recursive hinted (repository_id) as (
        (select h.repository_id from refresh_hint h order by h.repository_id limit 1)
        union all
        select (select h.repository_id from refresh_hint h
                 where h.repository_id > hinted.repository_id
                 order by h.repository_id limit 1)
          from hinted
         where hinted.repository_id is not null
      )
      select %1$s, d.since, s.repository_id
        from hinted
        join repository_sync_state s on s.repository_id = hinted.repository_id
       cross join lateral (select h.first_seen_at as since from refresh_hint h
                            where h.repository_id = s.repository_id and %2$s
                            order by h.first_seen_at
                            limit 1) d
       where %3$s
      """
          .formatted(RESOURCE, RefreshLane.HINT_DUE, notBackedOff("refresh"));

  /**
   * Backfill: repositories with inventory rows that are not current. The work grows with those
   * repositories, not with all tracked ones: a loose index scan of {@code open_pr_backfill_walk}
   * (partial: rows not current, leading with {@code repository_id}) steps from one such repository
   * to the next; each candidate's conditions are then probes by primary key or that index. Failed
   * rows count again only after the failed-retry interval. A walk whose cursor is set while no row
   * is left to walk is not picked just to clear the cursor: the next walk that finds rows does.
   */
  private static final String BACKFILL =
      """
      with recursive unfinished (repository_id) as (
        (select p.repository_id from open_pr p
          where p.freshness is distinct from 'current'
          order by p.repository_id limit 1)
        union all
        select (select p.repository_id from open_pr p
                 where p.freshness is distinct from 'current'
                   and p.repository_id > unfinished.repository_id
                 order by p.repository_id limit 1)
          from unfinished
         where unfinished.repository_id is not null
      )
      select %1$s, s.backfill_priority as priority, s.last_backfill_started_at as started,
             s.repository_id
        from unfinished
        join repository_sync_state s on s.repository_id = unfinished.repository_id
       where s.backfill_mode <> 'off' and %2$s
         and (s.last_backfill_finished_at is null or s.last_backfill_finished_at <= %3$s)
         and (s.open_pr_cursor_number is not null
              or exists (select 1 from open_pr p
                          where p.repository_id = s.repository_id
                            and p.freshness is distinct from 'current'
                            and p.freshness is distinct from 'failed')
              or (exists (select 1 from open_pr p
                           where p.repository_id = s.repository_id
                             and p.freshness is distinct from 'current'
                             and p.freshness = 'failed')
                  and (s.last_backfill_finished_at is null
                       or s.last_backfill_finished_at <= %4$s)))
      """
          .formatted(
              RESOURCE, notBackedOff("backfill"), ago("backfill_interval_us"), ago("failed_retry_us"));

  Candidates candidates(WorkKind kind) {
    return candidates(kind, false);
  }

  /**
   * The candidates of {@code kind}. Requested fetches come in two ranks — never scanned, then
   * dirty — unless {@code dirtyFirst} (see {@link PickOrder#dirtyFirst}). Backfill takes the
   * highest priority first and, among equal priorities, the repository backfilled longest ago, so
   * passes go round the repositories instead of finishing the lowest id first.
   */
  Candidates candidates(WorkKind kind, boolean dirtyFirst) {
    return switch (kind) {
      case REQUESTED_FETCH ->
          new Candidates(
              REQUESTED_FETCH,
              (dirtyFirst ? "c.rank desc" : "c.rank") + ", c.since nulls first, c.repository_id",
              Map.of(
                  "debounce_us", SyncState.micros(settings.webhookDebounce()),
                  "min_fetch_us", SyncState.micros(settings.minFetchInterval())));
      case REFRESH ->
          new Candidates(
              REFRESH,
              "c.since, c.repository_id",
              Map.of(
                  "base_us", SyncState.micros(settings.retryBackoffBase()),
                  "cap_us", SyncState.micros(settings.retryBackoffCap())));
      case BACKFILL ->
          new Candidates(
              BACKFILL,
              "c.priority desc, c.started nulls first, c.repository_id",
              Map.of(
                  "backfill_interval_us", SyncState.micros(settings.backfillInterval()),
                  "failed_retry_us", SyncState.micros(settings.failedPullRetryAfter())));
      case PERIODIC_FETCH ->
          new Candidates(
              PERIODIC_FETCH,
              "c.since, c.repository_id",
              Map.of(
                  "max_age_us", SyncState.micros(settings.inventoryMaxAge()),
                  "min_fetch_us", SyncState.micros(settings.minFetchInterval())));
    };
  }
}
