package dev.changesync.benchmarks;

import java.util.Locale;

/**
 * The tracked repositories of the scale benchmark and of its plan test, seeded by SQL into a
 * migrated, empty database: {@code repositories} repositories in a realistic mix of states,
 * decided by {@code id % 1000}, with the three lease rows each (as the engine registers them when a
 * repository is tracked: free, owner null).
 *
 * <table>
 *   <caption>The mix, per 1,000 repositories</caption>
 *   <tr><th>{@code id % 1000}</th><th>state</th></tr>
 *   <tr><td>0-9</td><td>never scanned (onboarding)</td></tr>
 *   <tr><td>10-29</td><td>dirty (a webhook or fetch request), scanned 10 minutes ago</td></tr>
 *   <tr><td>30-39</td><td>3 pending refresh hints</td></tr>
 *   <tr><td>40-59</td><td>in backfill: 2 of its 3 open PRs stale</td></tr>
 *   <tr><td>60-79</td><td>failing: dirty, hints and stale PRs, every lane's retry-after an hour
 *       ahead</td></tr>
 *   <tr><td>80-84</td><td>dirty, hints and stale PRs, all three leases held by a live worker of
 *       another host</td></tr>
 *   <tr><td>85-104</td><td>inventory older than the maximum age (periodic fetch due)</td></tr>
 *   <tr><td>105</td><td>dirty, but GitHub said it does not exist</td></tr>
 *   <tr><td>106</td><td>dirty, backfill mode off (no lane works on it)</td></tr>
 *   <tr><td>107-111</td><td>dirty, hints and stale PRs, read under a GitHub credential whose rate
 *       limit is used up until an hour from now</td></tr>
 *   <tr><td>112-999</td><td>idle: scanned within the last 10 minutes, 3 current open PRs</td></tr>
 * </table>
 *
 * <p>Every repository but those never scanned was read under a credential: the used-up one above,
 * or one of {@value #CREDENTIALS} installations with budget left (rows of {@code
 * github_credential_rate_limit}).
 */
final class ScaleSeed {

  /** The owner of the leases held by another worker ({@code id % 1000} in 80-84). */
  static final String FOREIGN_OWNER = "other-host:1";

  /** The credential whose rate limit is used up ({@code id % 1000} in 107-111). */
  static final String EXHAUSTED_CREDENTIAL = "installation:1:0";

  /** Installations with budget left, besides the exhausted one. */
  static final int CREDENTIALS = 20;

  private ScaleSeed() {}

  /** The SQL that seeds {@code repositories} repositories (without ANALYZE). */
  static String sql(int repositories) {
    return String.format(
        Locale.ROOT,
        """
        insert into repository (owner, name)
        select 'org' || (i %% 997), 'repo' || i from generate_series(1, %1$d) i;

        insert into repository_sync_state (
            repository_id, backfill_mode, dirty, dirty_since, fetch_request_seq,
            last_open_pr_scan_at, last_fetch_started_at, last_fetch_finished_at,
            last_successful_fetch_at, last_backfill_finished_at, github_not_found_at,
            fetch_failure_count, fetch_retry_after, refresh_failure_count, refresh_retry_after,
            backfill_failure_count, backfill_retry_after, last_error, last_error_at)
        select id,
               case when b = 106 then 'off' else 'open_only' end,
               dirty, case when dirty then now() - interval '5 minutes' end,
               case when dirty then 1 else 0 end,
               scanned, scanned, scanned, scanned, scanned,
               case when b = 105 then now() - interval '1 day' end,
               case when failing then 3 else 0 end,
               case when failing then now() + interval '1 hour' end,
               case when failing then 3 else 0 end,
               case when failing then now() + interval '1 hour' end,
               case when failing then 3 else 0 end,
               case when failing then now() + interval '1 hour' end,
               case when failing then 'fetch: GitHub answered 502' end,
               case when failing then now() - interval '1 minute' end
          from (select id, b,
                       (b between 10 and 29 or b between 60 and 84 or b in (105, 106)
                        or b between 107 and 111) as dirty,
                       b between 60 and 79 as failing,
                       case when b < 10 then null
                            when b between 85 and 104 then now() - interval '1 day'
                            when b between 10 and 84 then now() - interval '10 minutes'
                            else now() - (id %% 600) * interval '1 second' end as scanned
                  from (select id, id %% 1000 as b from repository) r) s;

        insert into lease (resource, lane)
        select 'repo:' || r.id, lane
          from repository r, unnest(array['fetch', 'refresh', 'backfill']) lane;

        update lease l
           set owner_id = '%2$s', worker_name = 'other-host', token = nextval('lease_token_seq'),
               claimed_at = now(), heartbeat_at = now(),
               expires_at = now() + interval '1 hour', stale_at = now() + interval '1 hour',
               lease_for_us = 3600000000, heartbeat_every_us = 10000000,
               stale_after_us = 3600000000, transitions = 1
          from repository r
         where l.resource = 'repo:' || r.id and r.id %% 1000 between 80 and 84;

        insert into open_pr (repository_id, number, head_sha, base_sha, base_ref, updated_at,
                             freshness, snapshot_head_sha, snapshot_base_sha, snapshot_indexed_at)
        select r.id, n, md5(r.id || ':' || n), md5('base' || r.id), 'main',
               now() - n * interval '1 hour',
               case when (b between 40 and 84 or b between 107 and 111) and n < 3
                    then 'stale_head_changed' else 'current' end,
               case when (b between 40 and 84 or b between 107 and 111) and n < 3
                    then md5('old' || r.id || ':' || n)
                    else md5(r.id || ':' || n) end,
               md5('base' || r.id), now() - n * interval '1 hour'
          from (select id, id %% 1000 as b from repository) r, generate_series(1, 3) n
         where r.b >= 10;

        update repository_sync_state s
           set open_pr_total = 3,
               open_pr_current = case when s.repository_id %% 1000 between 40 and 84
                                        or s.repository_id %% 1000 between 107 and 111 then 1
                                      else 3 end,
               open_pr_stale = case when s.repository_id %% 1000 between 40 and 84
                                      or s.repository_id %% 1000 between 107 and 111 then 2
                                    else 0 end,
               github_credential =
                 case when s.repository_id %% 1000 between 107 and 111 then '%3$s'
                      else 'installation:1:' || (1 + s.repository_id %% %4$d) end
         where s.repository_id %% 1000 >= 10;

        insert into github_credential_rate_limit
               (credential, remaining, request_limit, reset_at, secondary_until, updated_at)
        select 'installation:1:' || i, 4000, 5000, now() + interval '30 minutes',
               cast(null as timestamptz), now()
          from generate_series(1, %4$d) i
        union all
        select '%3$s', 0, 5000, now() + interval '1 hour', cast(null as timestamptz), now();

        insert into refresh_hint (repository_id, number, first_seen_at, last_seen_at, last_action)
        select r.id, n, now() - interval '2 minutes' + n * interval '1 second',
               now() - interval '1 minute', 'synchronize'
          from repository r, generate_series(1, 3) n
         where r.id %% 1000 between 30 and 39 or r.id %% 1000 between 60 and 84
            or r.id %% 1000 between 107 and 111;
        """,
        repositories,
        FOREIGN_OWNER,
        EXHAUSTED_CREDENTIAL,
        CREDENTIALS);
  }
}
