package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.lease.Candidates;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.sync.WorkPicking.Tier;
import java.util.List;
import java.util.Map;

/**
 * The candidate queries of work picking, handed to {@link
 * dev.changesync.engine.lease.PostgresLeaseStore#claimNext}: it joins them with the lane's lease
 * rows, keeps the claimable ones, takes the first in the query's order and locks it {@code FOR
 * UPDATE SKIP LOCKED} — so many workers polling at once each get different work instead of racing
 * for the same row.
 *
 * <p>Each kind of work is one or two {@link Tier}s, tried in order until one grants a lease; their
 * union in that order is the kind's order. A tier either <em>streams</em> — an index (V7) yields its
 * candidates already in the tier's order, so the claim reads them one by one and stops at the first
 * claimable lease, whatever the number of repositories tracked — or is <em>bounded</em>: the first
 * {@value #PREFIX} entries of an index in the kind's order, then only those sorted (the first
 * claimable one among a prefix of the order is the first of the whole order), with a complete
 * query as the next tier for when none of that prefix is claimable. So a pick reads a few index
 * entries in the usual case, and the complete queries (loose index scans that grow with the
 * repositories that have such work, never with those tracked) only when the head of the order is
 * all taken or backing off. Measured at 100,000 repositories in docs/benchmarks.md.
 *
 * <p>"Now" is {@link DbTime#NOW}, bound by {@code claimNext} itself, so picking and the lease
 * decision use the same clock.
 */
final class WorkPicker {

  private static final String NOW = DbTime.NOW;

  /** Entries of its index a bounded tier looks at. */
  static final int PREFIX = 200;


  private final SyncSettings settings;

  WorkPicker(SyncSettings settings) {
    this.settings = requireNonNull(settings, "settings");
  }

  private static String ago(String param) {
    return "(%s - :%s * interval '1 microsecond')".formatted(NOW, param);
  }

  /**
   * A lane may run: the repository's backfill mode is not {@code off} (which means no work of any
   * lane), GitHub has not said it does not exist, the lane does not back off, and the credential
   * the repository is read under has budget left ({@link CredentialBudgets}: a probe of {@code
   * github_credential_rate_limit}'s primary key).
   */
  private static String notBackedOff(String lane) {
    return ("(s.%1$s_retry_after is null or s.%1$s_retry_after <= %2$s)"
            + " and s.backfill_mode <> 'off' and s.github_not_found_at is null"
            + " and (s.github_credential is null or not %3$s)")
        .formatted(lane, NOW, CredentialBudgets.EXHAUSTED);
  }

  private static final String RESOURCE = Lanes.resourceSql("s.repository_id") + " as resource";

  /**
   * Requested fetches of repositories never scanned (onboarding), the longest dirty first, by
   * {@code repository_sync_state_never_scanned} ({@code dirty_since nulls first, repository_id}).
   */
  private static final String NEVER_SCANNED =
      """
      select %1$s, s.dirty_since as since, s.repository_id
        from repository_sync_state s
       where s.last_open_pr_scan_at is null and %2$s
      """
          .formatted(RESOURCE, notBackedOff("fetch"));

  /**
   * Requested fetches of repositories marked dirty (webhooks, fetch requests) for longer than the
   * debounce, the longest dirty first, by {@code repository_sync_state_dirty} ({@code dirty_since,
   * repository_id} where dirty; {@code dirty_since} is set exactly when {@code dirty} is).
   */
  private static final String DIRTY =
      """
      select %1$s, s.dirty_since as since, s.repository_id
        from repository_sync_state s
       where s.dirty and s.dirty_since <= %3$s and %2$s
         and s.last_open_pr_scan_at is not null
         and (s.last_fetch_started_at is null or s.last_fetch_started_at <= %4$s)
      """
          .formatted(RESOURCE, notBackedOff("fetch"), ago("debounce_us"), ago("min_fetch_us"));

  /**
   * Periodic fetches, the oldest inventory first, by {@code repository_sync_state_scan_age} ({@code
   * last_open_pr_scan_at, repository_id}).
   */
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
   * Refresh, bounded: the repositories of the first {@value #PREFIX} due hints in arrival order
   * ({@code refresh_hint_oldest}), each with its oldest of them. When one of them is claimable, it
   * is the one {@link #REFRESH} would pick; when none is (a flood of hints on one repository being
   * refreshed), {@link #REFRESH} runs next.
   */
  private static final String FIRST_HINTS =
      """
      select %1$s, d.since, s.repository_id
        from (select h.repository_id, min(h.first_seen_at) as since
                from (select h.repository_id, h.first_seen_at from refresh_hint h
                       where %2$s
                       order by h.first_seen_at
                       limit %4$d) h
               group by h.repository_id) d
        join repository_sync_state s on s.repository_id = d.repository_id
       where %3$s
      """
          .formatted(RESOURCE, RefreshLane.HINT_DUE, notBackedOff("refresh"), PREFIX);

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
       where %2$s
      """
          .formatted(RESOURCE, backfillDue());

  /**
   * Backfill, bounded: the first {@value #PREFIX} repositories in backfill order ({@code
   * repository_sync_state_backfill_order}: highest priority, then backfilled longest ago), with
   * {@link #BACKFILL}'s conditions. When one of them is claimable, it is the one {@link #BACKFILL}
   * would pick; when none is, {@link #BACKFILL} runs next.
   */
  private static final String FIRST_IN_BACKFILL_ORDER =
      """
      select %1$s, s.backfill_priority as priority, s.last_backfill_started_at as started,
             s.repository_id
        from (select s.* from repository_sync_state s
               where s.backfill_mode <> 'off'
               order by s.backfill_priority desc, s.last_backfill_started_at nulls first,
                        s.repository_id
               limit %3$d) s
       where %2$s
      """
          .formatted(RESOURCE, backfillDue(), PREFIX);

  /**
   * Repository {@code s} has backfill to do now: backfill on and not backing off, not walked within
   * the interval, and rows to walk (a walk's cursor set, rows not current that did not fail, or
   * failed rows due again).
   */
  private static String backfillDue() {
    return """
        s.backfill_mode <> 'off' and %1$s
           and (s.last_backfill_finished_at is null or s.last_backfill_finished_at <= %2$s)
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
                         or s.last_backfill_finished_at <= %3$s)))"""
        .formatted(
            notBackedOff("backfill"), ago("backfill_interval_us"), ago("failed_retry_us"));
  }

  /**
   * The tiers of {@code kind}, in the order to try them. Requested fetches come in two — never
   * scanned, then dirty — or the other way round when {@code dirtyFirst} (see {@link
   * PickOrder#dirtyFirst}). Backfill takes the highest priority first and, among equal priorities,
   * the repository backfilled longest ago, so passes go round the repositories instead of finishing
   * the lowest id first.
   */
  List<Tier> tiers(WorkKind kind, boolean dirtyFirst) {
    return switch (kind) {
      case REQUESTED_FETCH -> {
        Tier neverScanned =
            new Tier(
                "never scanned",
                true,
                new Candidates(NEVER_SCANNED, "c.since nulls first, c.repository_id", Map.of()));
        Tier dirty =
            new Tier(
                "dirty",
                true,
                new Candidates(
                    DIRTY,
                    "c.since, c.repository_id",
                    Map.of(
                        "debounce_us", SyncState.micros(settings.webhookDebounce()),
                        "min_fetch_us", SyncState.micros(settings.minFetchInterval()))));
        yield dirtyFirst ? List.of(dirty, neverScanned) : List.of(neverScanned, dirty);
      }
      case REFRESH -> {
        Map<String, Object> params =
            Map.of(
                "base_us", SyncState.micros(settings.retryBackoffBase()),
                "cap_us", SyncState.micros(settings.retryBackoffCap()));
        yield List.of(
            new Tier(
                "first due hints",
                false,
                new Candidates(FIRST_HINTS, "c.since, c.repository_id", params)),
            new Tier(
                "hinted repositories",
                false,
                new Candidates(REFRESH, "c.since, c.repository_id", params)));
      }
      case BACKFILL -> {
        Map<String, Object> params =
            Map.of(
                "backfill_interval_us", SyncState.micros(settings.backfillInterval()),
                "failed_retry_us", SyncState.micros(settings.failedPullRetryAfter()));
        String order = "c.priority desc, c.started nulls first, c.repository_id";
        yield List.of(
            new Tier(
                "first in backfill order",
                false,
                new Candidates(FIRST_IN_BACKFILL_ORDER, order, params)),
            new Tier("unfinished repositories", false, new Candidates(BACKFILL, order, params)));
      }
      case PERIODIC_FETCH ->
          List.of(
              new Tier(
                  "inventory too old",
                  true,
                  new Candidates(
                      PERIODIC_FETCH,
                      "c.since, c.repository_id",
                      Map.of(
                          "max_age_us", SyncState.micros(settings.inventoryMaxAge()),
                          "min_fetch_us", SyncState.micros(settings.minFetchInterval())))));
    };
  }

  /** The complete query of {@code kind}'s last tier (for plan tests). */
  Candidates complete(WorkKind kind) {
    List<Tier> tiers = tiers(kind, false);
    return tiers.get(tiers.size() - 1).candidates();
  }
}
