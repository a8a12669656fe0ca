-- changesync schema, version 5: a tracked repository GitHub says does not exist (issue 16).
--
-- When GitHub answers 404 or 410 for a tracked repository, the fetch lane records when here and
-- no lane works on the repository any more: retrying a repository that is gone only costs rate
-- limit and log lines. Tracking it again (POST .../backfill) or an admin fetch clears it.
alter table repository_sync_state add column github_not_found_at timestamptz;

comment on column repository_sync_state.github_not_found_at is
    'When GitHub last answered 404/410 for this repository; while set, no lane works on it.';
