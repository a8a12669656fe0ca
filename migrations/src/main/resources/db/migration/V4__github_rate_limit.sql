-- The GitHub rate limit each worker last saw (issue 12): served by the workers list and the
-- repository status, so that an anonymous worker's 60 requests an hour are visible.
alter table worker
    add column github_rate_limit_remaining integer,
    add column github_rate_limit_reset_at  timestamptz;

comment on column worker.github_rate_limit_remaining is
    'x-ratelimit-remaining of the last GitHub response this worker saw (null: none yet).';
