package dev.changesync.engine.lease;

import dev.changesync.engine.db.DbTime;

/**
 * The SQL of {@link PostgresLeaseStore}'s statements on the {@code lease} table and its event log,
 * kept apart from the store's flows so that each reads in one sitting: claim (free, probe, insert
 * or reclaim), claim-next, heartbeat (one and batched), release (bare and with completion), manual
 * release, recovery and reads. "Now" is {@link DbTime#NOW} in every statement, so every decision
 * is on the store's clock; see {@link PostgresLeaseStore} for what each guarantees.
 */
final class LeaseSql {

  private LeaseSql() {}

  static final String NOW = DbTime.NOW;

  /**
   * Whether the owner of lease row {@code l} counts as gone at instant {@code now}: its liveness
   * lock is held by no session, and it has been silent for the grace. The case makes sure the lock
   * is only tried on leases past the grace (a lock taken here is held until the statement ends, and
   * would keep a live owner from taking its own lock back).
   */
  static String ownerGone(String now) {
    return """
        case when :liveness and l.liveness_key is not null
                  and l.heartbeat_at <= %s - :owner_gone_after_us * interval '1 microsecond'
             then pg_try_advisory_xact_lock(l.liveness_key)
             else false end"""
        .formatted(now);
  }

  /** Whether lease row {@code l} may be claimed at instant {@code now}. */
  static String reclaimable(String now) {
    return """
        (l.owner_id is null
           or l.stale_at <= %s
           or %s)"""
        .formatted(now, ownerGone(now));
  }

  // Statements that look a lease up by owner say `owner_id is not distinct from :owner` rather
  // than `owner_id = :owner`: the latter implies `owner_id is not null`, the predicate of the
  // partial indexes, and with stale statistics the planner then scans a partial index of every
  // held lease instead of taking the primary key.
  static final String LEASE_COLUMNS =
      "resource, lane, owner_id, token, claimed_at, heartbeat_at, expires_at,"
          + " lease_for_us, heartbeat_every_us, stale_after_us";

  static final String CLAIM =
      """
      with t as (select %1$s as now),
      prev as (select * from lease where resource = :resource and lane = :lane for update),
      up as (
        insert into lease as l (resource, lane, owner_id, worker_name, liveness_key, token,
                                claimed_at, heartbeat_at, expires_at, stale_at,
                                lease_for_us, heartbeat_every_us, stale_after_us, transitions,
                                holder_clock_skew_us)
        select :resource, :lane, :owner, :worker, :liveness_key, nextval('lease_token_seq'),
               t.now, t.now, t.now + :lease_for_us * interval '1 microsecond',
               t.now + least(:lease_for_us, :stale_after_us) * interval '1 microsecond',
               :lease_for_us, :heartbeat_every_us, :stale_after_us, 1,
               :holder_epoch_us - (extract(epoch from t.now) * 1000000)::bigint
          -- Joining prev makes it lock and read the row before the insert changes it.
          from t left join prev on true
        on conflict (resource, lane) do update set
               owner_id = excluded.owner_id, worker_name = excluded.worker_name,
               liveness_key = excluded.liveness_key, token = excluded.token,
               claimed_at = excluded.claimed_at, heartbeat_at = excluded.heartbeat_at,
               expires_at = excluded.expires_at, stale_at = excluded.stale_at,
               lease_for_us = excluded.lease_for_us,
               heartbeat_every_us = excluded.heartbeat_every_us,
               stale_after_us = excluded.stale_after_us,
               transitions = l.transitions + 1,
               holder_clock_skew_us = excluded.holder_clock_skew_us,
               claim_logged = l.owner_id is not null
         where %2$s
        returning l.*
      ),
      %3$s
      union all
      select false, %4$s, null, null, null, null, null, null, null, null
        from prev where not exists (select 1 from up)
      """
          .formatted(
              NOW,
              reclaimable("excluded.claimed_at"),
              claimedEventAndRow("prev", "left join"),
              prefixed("prev", LEASE_COLUMNS));

  /**
   * The end of a claim statement, after its CTE {@code up} (the claimed lease row) and the CTE
   * {@code previous} (the row as it was, joined by {@code join}): the {@code reclaimed} event when
   * the lease was held (a claim of a free lease writes no row: its holding's end will carry it),
   * and the granted row — the lease, then the previous holder's as {@code p_*}. One row per lease
   * claimed: {@code previous} is matched to {@code up} by resource and lane.
   */
  static String claimedEventAndRow(String previous, String join) {
    return """
        ev as (
          insert into lease_event (id, at, resource, lane, kind, owner_id, token,
                                   previous_owner_id, previous_token, held_since, detail)
          select up.token, up.claimed_at, up.resource, up.lane, 'reclaimed',
                 up.owner_id, up.token, %1$s.owner_id, %1$s.token,
                 case when not %1$s.claim_logged then %1$s.claimed_at end,
                 case when %1$s.stale_at <= up.claimed_at then 'previous holder stale'
                      else 'previous holder''s process is gone' end
            from up %2$s %1$s on %1$s.resource = up.resource and %1$s.lane = up.lane
           where %1$s.owner_id is not null
        )
        select true as granted, %3$s,
               %1$s.owner_id as p_owner_id, %1$s.token as p_token,
               %1$s.claimed_at as p_claimed_at, %1$s.heartbeat_at as p_heartbeat_at,
               %1$s.expires_at as p_expires_at, %1$s.lease_for_us as p_lease_for_us,
               %1$s.heartbeat_every_us as p_heartbeat_every_us,
               %1$s.stale_after_us as p_stale_after_us
          from up %2$s %1$s on %1$s.resource = up.resource and %1$s.lane = up.lane
        """
        .formatted(previous, join, prefixed("up", LEASE_COLUMNS));
  }

  static final Jdbc.Statement CLAIM_STATEMENT = Jdbc.Statement.of(CLAIM);

  /**
   * The common claim, of a lease that is free: one conditional update of its row, which writes no
   * event (the statement ending the holding will carry it; see {@code V3__lease_cycle_events.sql}).
   * No row: the lease is not free, or has no row yet — {@link #CLAIM_PROBE} tells which.
   */
  static final String CLAIM_FREE =
      """
      update lease l set owner_id = :owner, worker_name = :worker,
             liveness_key = :liveness_key, token = nextval('lease_token_seq'),
             claimed_at = %1$s, heartbeat_at = %1$s,
             expires_at = %1$s + :lease_for_us * interval '1 microsecond',
             stale_at = %1$s + least(:lease_for_us, :stale_after_us) * interval '1 microsecond',
             lease_for_us = :lease_for_us, heartbeat_every_us = :heartbeat_every_us,
             stale_after_us = :stale_after_us, transitions = l.transitions + 1,
             holder_clock_skew_us =
               :holder_epoch_us - (extract(epoch from %1$s) * 1000000)::bigint,
             claim_logged = false
       where l.resource = :resource and l.lane = :lane and l.owner_id is null
      returning l.token, l.heartbeat_at
      """
          .formatted(NOW);

  static final Jdbc.Statement CLAIM_FREE_STATEMENT = Jdbc.Statement.of(CLAIM_FREE);

  /**
   * After {@link #CLAIM_FREE} found no free row: the row as it is, with what a claim can do about
   * it — {@code held}; {@code reclaimable} (stale, or its owner's process may be gone: {@link
   * #CLAIM} decides, and logs the reclaim); {@code raced} (free again: released since). No row: the
   * lease has none yet ({@link #CLAIM} inserts it). Reads only.
   */
  static final String CLAIM_PROBE =
      """
      select case when l.owner_id is null then 'raced'
                  when l.stale_at <= %1$s or %2$s then 'reclaimable'
                  else 'held' end as outcome,
             %3$s
        from lease l
       where l.resource = :resource and l.lane = :lane
      """
          .formatted(NOW, ownerGone(NOW), prefixed("l", LEASE_COLUMNS));

  static final Jdbc.Statement CLAIM_PROBE_STATEMENT = Jdbc.Statement.of(CLAIM_PROBE);

  /**
   * The statement of {@link PostgresLeaseStore#claimNext}: pick the first {@code :claim_limit} claimable candidates,
   * claim them, log the reclaims.
   */
  static String claimNextSql(Candidates candidates) {
    return """
        with t as (select %1$s as now),
        pick as (
          select l.* from lease l join (%2$s) c on c.resource = l.resource, t
           where l.lane = :lane and %3$s
           order by %4$s
           limit :claim_limit
             for update of l skip locked
        ),
        up as (
          update lease l set owner_id = :owner, worker_name = :worker,
                 liveness_key = :liveness_key, token = nextval('lease_token_seq'),
                 claimed_at = t.now, heartbeat_at = t.now,
                 expires_at = t.now + :lease_for_us * interval '1 microsecond',
                 stale_at = t.now + least(:lease_for_us, :stale_after_us) * interval '1 microsecond',
                 lease_for_us = :lease_for_us, heartbeat_every_us = :heartbeat_every_us,
                 stale_after_us = :stale_after_us, transitions = l.transitions + 1,
                 holder_clock_skew_us =
                   :holder_epoch_us - (extract(epoch from t.now) * 1000000)::bigint,
                 claim_logged = l.owner_id is not null
            from pick, t
           where l.resource = pick.resource and l.lane = pick.lane
          returning l.*
        ),
        %5$s
        """
            .formatted(
                NOW,
                candidates.sql(),
                reclaimable("t.now"),
                candidates.orderBy(),
                claimedEventAndRow("pick", "join"));
  }

  static final String HEARTBEAT =
      """
      with t as (select %1$s as now),
      up as (
        update lease l set heartbeat_at = t.now,
               expires_at = t.now + l.lease_for_us * interval '1 microsecond',
               stale_at = t.now + least(l.lease_for_us, l.stale_after_us) * interval '1 microsecond',
               holder_clock_skew_us = :holder_epoch_us - (extract(epoch from t.now) * 1000000)::bigint
          from t
         where l.resource = :resource and l.lane = :lane
           and l.owner_id is not distinct from :owner and l.token = :token
        returning l.*
      ),
      ev as (
        insert into lease_event (at, resource, lane, kind, owner_id, token,
                                 previous_owner_id, previous_token, detail)
        select t.now, :resource, :lane, 'lost', :owner, :token, null, null, 'heartbeat refused'
          from t where not exists (select 1 from up)
      )
      select true as renewed, %2$s from up
      union all
      select false, %3$s from lease l
       where l.resource = :resource and l.lane = :lane and not exists (select 1 from up)
      """
          .formatted(NOW, prefixed("up", LEASE_COLUMNS), prefixed("l", LEASE_COLUMNS));

  static final Jdbc.Statement HEARTBEAT_STATEMENT = Jdbc.Statement.of(HEARTBEAT);

  /**
   * {@link #HEARTBEAT} for many leases in one statement: the leases come in as arrays, each row
   * says which input it answers ({@code ord}, 1-based).
   */
  static final String HEARTBEAT_ALL =
      """
      with t as (select %1$s as now),
      k as (
        select * from unnest(cast(:resources as text[]), cast(:lanes as text[]),
                             cast(:owners as text[]), cast(:tokens as bigint[]))
               with ordinality as k(resource, lane, owner_id, token, ord)
      ),
      up as (
        update lease l set heartbeat_at = t.now,
               expires_at = t.now + l.lease_for_us * interval '1 microsecond',
               stale_at = t.now + least(l.lease_for_us, l.stale_after_us) * interval '1 microsecond',
               holder_clock_skew_us = :holder_epoch_us - (extract(epoch from t.now) * 1000000)::bigint
          from t, k
         where l.resource = k.resource and l.lane = k.lane
           and l.owner_id = k.owner_id and l.token = k.token
        returning k.ord, l.*
      ),
      ev as (
        insert into lease_event (at, resource, lane, kind, owner_id, token,
                                 previous_owner_id, previous_token, detail)
        select t.now, k.resource, k.lane, 'lost', k.owner_id, k.token, null, null,
               'heartbeat refused'
          from t, k where not exists (select 1 from up where up.ord = k.ord)
      )
      select true as renewed, up.ord, %2$s from up
      union all
      select false, k.ord, %3$s
        from k left join lease l on l.resource = k.resource and l.lane = k.lane
       where not exists (select 1 from up where up.ord = k.ord)
      """
          .formatted(NOW, prefixed("up", LEASE_COLUMNS), prefixed("l", LEASE_COLUMNS));

  static final Jdbc.Statement HEARTBEAT_ALL_STATEMENT = Jdbc.Statement.of(HEARTBEAT_ALL);

  static final String FREE_COLUMNS =
      """
      owner_id = null, worker_name = null, liveness_key = null,
      heartbeat_at = null, expires_at = null, stale_at = null, lease_for_us = null,
      heartbeat_every_us = null, stale_after_us = null, holder_clock_skew_us = null""";

  /**
   * The bare release: frees the row if owner and token still match and, in the same statement,
   * writes the holding's one event row (with its claim, when that has no row of its own). No row
   * back: refused, and {@link PostgresLeaseStore#release} records the loss. {@code %3$s} (the commit mode) is
   * evaluated in the update's condition, once, before the row is changed.
   */
  static final String RELEASE_TEMPLATE =
      """
      with up as (
        update lease set %2$s
         where resource = :resource and lane = :lane
           and owner_id is not distinct from :owner and token = :token
           and %3$s is not null
        returning claimed_at, claim_logged
      )
      insert into lease_event (at, resource, lane, kind, owner_id, token, held_since)
      select %1$s, :resource, :lane, 'released', :owner, :token,
             case when not up.claim_logged then up.claimed_at end
        from up
      returning 1
      """;

  /**
   * How a release transaction commits: {@code set_config(..., true)} lasts until the end of the
   * transaction, so the setting never outlives the release on a pooled connection.
   */
  static String commitMode(boolean synchronous) {
    return synchronous
        ? "current_setting('synchronous_commit')"
        : "set_config('synchronous_commit', 'off', true)";
  }

  static final String RELEASE_CHECKED =
      """
      with t as (select %1$s as now),
      up as (
        update lease set %2$s
         where resource = :resource and lane = :lane
           and owner_id is not distinct from :owner and token = :token
        returning claimed_at, claim_logged
      )
      insert into lease_event (at, resource, lane, kind, owner_id, token, held_since)
      select t.now, :resource, :lane, 'released', :owner, :token,
             case when not up.claim_logged then up.claimed_at end
        from t, up
      """
          .formatted(NOW, FREE_COLUMNS);

  static final String RELEASE_MANUALLY =
      """
      with t as (select %1$s as now),
      prev as (select * from lease where resource = :resource and lane = :lane
                                     and owner_id is not null for update),
      up as (
        update lease l set %2$s, token = nextval('lease_token_seq')
          from prev
         where l.resource = prev.resource and l.lane = prev.lane
        returning l.resource, l.token
      ),
      ev as (
        insert into lease_event (at, resource, lane, kind, owner_id, token,
                                 previous_owner_id, previous_token, held_since, detail)
        select t.now, :resource, :lane, 'manually_released', null, up.token,
               prev.owner_id, prev.token,
               case when not prev.claim_logged then prev.claimed_at end, :detail
          from t, up, prev
      )
      select %3$s from prev join up on true
      """
          .formatted(NOW, FREE_COLUMNS, prefixed("prev", LEASE_COLUMNS));

  static final String RECOVER =
      """
      with t as (select %1$s as now),
      victims as (
        select l.*,
               case when l.worker_name = :worker then 'EARLIER_INCARNATION'
                    when l.stale_at <= t.now then 'STALE'
                    else 'OWNER_GONE' end as reason
          from lease l, t
         where l.owner_id is not null and l.owner_id <> :self
           and (l.worker_name = :worker
                or l.stale_at <= t.now
                or %4$s)
           for update of l skip locked
      ),
      up as (
        update lease l set %2$s
          from victims v
         where l.resource = v.resource and l.lane = v.lane
        returning l.resource
      ),
      ev as (
        insert into lease_event (at, resource, lane, kind, owner_id, token,
                                 previous_owner_id, previous_token, held_since, detail)
        select t.now, v.resource, v.lane, 'recovered', :self, null, v.owner_id, v.token,
               case when not v.claim_logged then v.claimed_at end,
               lower(replace(v.reason, '_', ' '))
          from t, victims v
      )
      select %3$s, v.reason from victims v
       order by v.resource, v.lane
      """
          .formatted(NOW, FREE_COLUMNS, prefixed("v", LEASE_COLUMNS), ownerGone("t.now"));

  static final Jdbc.Statement FIND_STATEMENT =
      Jdbc.Statement.of(
          "select "
              + LEASE_COLUMNS
              + " from lease where resource = :resource and lane = :lane and owner_id is not null");

  static String prefixed(String alias, String columns) {
    StringBuilder out = new StringBuilder();
    for (String column : columns.split(",")) {
      if (out.length() > 0) {
        out.append(", ");
      }
      String c = column.strip();
      out.append(alias).append('.').append(c).append(" as ").append(c);
    }
    return out.toString();
  }
}
