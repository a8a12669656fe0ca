-- Work picking reads its candidates in order from an index and stops at the first claimable lease
-- (sync-engine WorkPicker), instead of collecting every candidate and sorting them: at 100,000
-- tracked repositories a requested fetch then reads a few index entries instead of thousands
-- (docs/benchmarks.md, "Work picking at 100,000 repositories"). Each index keeps its name and its
-- predicate; its columns become the picking order.

-- Never scanned (onboarding): the longest dirty first, then by id.
drop index repository_sync_state_never_scanned;
create index repository_sync_state_never_scanned
    on repository_sync_state (dirty_since nulls first, repository_id) where last_open_pr_scan_at is null;

-- Dirty (webhooks, fetch requests): the longest dirty first, then by id.
drop index repository_sync_state_dirty;
create index repository_sync_state_dirty
    on repository_sync_state (dirty_since, repository_id) where dirty;

-- Periodic fetches: the oldest inventory first, then by id.
drop index repository_sync_state_scan_age;
create index repository_sync_state_scan_age
    on repository_sync_state (last_open_pr_scan_at, repository_id);

-- Backfill: highest priority first, then the repository backfilled longest ago, then by id.
drop index repository_sync_state_backfill_order;
create index repository_sync_state_backfill_order
    on repository_sync_state (backfill_priority desc, last_backfill_started_at nulls first, repository_id)
    where backfill_mode <> 'off';
