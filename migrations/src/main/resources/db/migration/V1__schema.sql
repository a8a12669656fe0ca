-- changesync schema, version 1: the whole data model (SPEC §2–§4).
--
-- Conventions: snake_case; every instant is timestamptz (stored UTC, rendered in the session's
-- time zone, so never compare with `timestamp without time zone`); enums are text with a check
-- constraint; a repository's rows cascade away with it. Leases name their resource as text
-- ('repo:<repository.id>') and deliberately have no foreign key: the lease layer knows nothing
-- about what it guards. Compatible with PostgreSQL 13 and newer.

-- =============================================================================================
-- Leases (SPEC §2). Written against by the PostgreSQL lease store: keep this part as it is.
-- =============================================================================================

-- One row per (resource, lane) ever claimed or registered. A free lease keeps its row and its last token.
create table lease (
    resource            text        not null,
    lane                text        not null,
    owner_id            text,                    -- '<worker-name>:<incarnation>', null when free
    worker_name         text,                    -- worker-name part of owner_id, for recovery by name
    liveness_key        bigint,                  -- advisory lock key of the owner's incarnation; null = no liveness
    token               bigint      not null default 0,  -- last token issued for this key (kept when free)
    claimed_at          timestamptz,
    heartbeat_at        timestamptz,
    expires_at          timestamptz,
    stale_at            timestamptz,             -- least(expires_at, heartbeat_at + stale_after): HELD iff stale_at > now
    lease_for_us        bigint,                  -- the holder's policy, microseconds
    heartbeat_every_us  bigint,
    stale_after_us      bigint,
    transitions         bigint      not null default 0,  -- times the lease changed hands
    holder_clock_skew_us bigint,                 -- holder's clock minus database clock at its last heartbeat
    primary key (resource, lane),
    constraint lease_owner_fields check (
        (owner_id is null and worker_name is null and claimed_at is null and heartbeat_at is null
             and expires_at is null and stale_at is null)
        or (owner_id is not null and worker_name is not null and claimed_at is not null and heartbeat_at is not null
             and expires_at is not null and stale_at is not null and lease_for_us > 0
             and heartbeat_every_us > 0 and stale_after_us > 0))
);
create index lease_claimable on lease (lane, stale_at) where owner_id is not null;
create index lease_owner on lease (worker_name, owner_id) where owner_id is not null;
-- Tokens come from one sequence, so they keep increasing even if lease rows are deleted.
create sequence lease_token_seq as bigint;

create table lease_event (
    id                  bigint generated always as identity primary key,
    at                  timestamptz not null,
    resource            text        not null,
    lane                text        not null,
    kind                text        not null check (kind in
                          ('claimed','reclaimed','released','lost','manually_released','recovered')),
    owner_id            text,
    token               bigint,
    previous_owner_id   text,
    previous_token      bigint,
    detail              text
);
create index lease_event_resource on lease_event (resource, id desc);
create index lease_event_at on lease_event (at);

create table worker (
    owner_id            text        primary key,
    worker_name         text        not null,
    incarnation         text        not null,
    host                text,
    pid                 bigint,
    version             text,
    liveness_key        bigint,
    started_at          timestamptz not null,
    last_seen_at        timestamptz not null,
    stopped_at          timestamptz
);
create index worker_name on worker (worker_name);

comment on table lease is
    'One fenced lease per (resource, lane). State at database time t: FREE (owner_id null), '
    'HELD (stale_at > t), STALE (owner present, stale_at <= t). See dev.changesync.lease.';
comment on column lease.token is
    'Fencing token of the current or last holder; drawn from lease_token_seq, so strictly increasing per key.';
comment on table lease_event is 'Append-only lease audit log with bounded retention (pruned by at).';
comment on table worker is 'One row per worker process start (incarnation).';

-- =============================================================================================
-- Repositories and their sync state (SPEC §3, §4).
-- =============================================================================================

create table repository (
    id                  bigint      generated always as identity primary key,
    github_id           bigint      unique,      -- GitHub's repository id, resolved by the first fetch
    owner               text        not null,    -- as GitHub spells it; matched case-insensitively
    name                text        not null,
    full_name           text        generated always as (owner || '/' || name) stored,
    created_at          timestamptz not null default now(),
    -- The application validates names before they reach SQL (SPEC §3 "Names"); these repeat the rule.
    constraint repository_owner_format check (owner ~ '^[A-Za-z0-9_-]{1,39}$'),
    constraint repository_name_format check (name ~ '^[A-Za-z0-9._-]{1,100}$' and name not in ('.', '..'))
);
-- Names are case-insensitive: one row per name however it is spelled, and the index behind
-- status lookups. Queries must say `lower(owner) = lower(?) and lower(name) = lower(?)` to use it.
create unique index repository_name_key on repository (lower(owner), lower(name));

comment on table repository is 'A tracked GitHub repository. Its row existing is what "tracked" means.';
comment on column repository.github_id is 'GitHub''s numeric id; null until the first fetch resolves it.';

create table repository_sync_state (
    repository_id               bigint      primary key references repository (id) on delete cascade,

    -- Backfill configuration (POST .../backfill).
    backfill_mode               text        not null default 'off'
                                    constraint repository_sync_state_backfill_mode check (backfill_mode in ('off', 'open_only')),
    backfill_priority           integer     not null default 0,

    -- Dirty flag. Every fetch request (webhook opened/closed/reopened, POST .../fetch, tracking)
    -- sets dirty, keeps the first dirty_since and increments fetch_request_seq. A fetch pass
    -- remembers the seq it started at (fetch_pass_seq) and on success clears dirty only
    -- `where fetch_request_seq = <seq seen at start>`, so a request that arrived during the pass
    -- keeps the repository dirty.
    dirty                       boolean     not null default false,
    dirty_since                 timestamptz,
    fetch_request_seq           bigint      not null default 0,
    fetch_pass_seq              bigint,

    last_webhook_at             timestamptz,
    last_requested_fetch_at     timestamptz,
    last_fetch_started_at       timestamptz,
    last_fetch_finished_at      timestamptz,
    last_successful_fetch_at    timestamptz,
    last_refresh_started_at     timestamptz,
    last_refresh_finished_at    timestamptz,
    last_backfill_started_at    timestamptz,
    last_backfill_finished_at   timestamptz,
    last_open_pr_scan_at        timestamptz,  -- completion of the last full inventory scan; null = never scanned

    -- Open-PR counts, recomputed by every pass that changes the inventory.
    open_pr_total               integer     not null default 0,
    open_pr_current             integer     not null default 0,
    open_pr_stale               integer     not null default 0,
    open_pr_missing             integer     generated always as (open_pr_total - open_pr_current - open_pr_stale) stored,

    -- Backfill cursor: the last PR rebuilt in (updated_at desc, number desc) order; null = start over.
    open_pr_cursor_updated_at   timestamptz,
    open_pr_cursor_number       integer,

    last_error                  text,
    last_error_at               timestamptz,

    -- Per-lane backoff: a failed pass increments the count and sets an exponential retry_after;
    -- a successful one resets both.
    fetch_failure_count         integer     not null default 0,
    fetch_retry_after           timestamptz,
    refresh_failure_count       integer     not null default 0,
    refresh_retry_after         timestamptz,
    backfill_failure_count      integer     not null default 0,
    backfill_retry_after        timestamptz,

    constraint repository_sync_state_dirty_since check (dirty = (dirty_since is not null)),
    constraint repository_sync_state_fetch_seq check (fetch_request_seq >= 0 and fetch_pass_seq <= fetch_request_seq),
    constraint repository_sync_state_counts check (
        open_pr_current >= 0 and open_pr_stale >= 0 and open_pr_current + open_pr_stale <= open_pr_total),
    constraint repository_sync_state_cursor check (
        (open_pr_cursor_updated_at is null) = (open_pr_cursor_number is null)),
    constraint repository_sync_state_failure_counts check (
        fetch_failure_count >= 0 and refresh_failure_count >= 0 and backfill_failure_count >= 0)
);

-- Work picking for the fetch lane (SPEC §3 "Runs when"): each reason has its own index so the
-- picking query (an OR of the reasons) becomes a BitmapOr; retry_after rides along as a key so
-- backed-off repositories are filtered inside the index.
create index repository_sync_state_never_scanned
    on repository_sync_state (repository_id, fetch_retry_after) where last_open_pr_scan_at is null;
create index repository_sync_state_dirty
    on repository_sync_state (dirty_since, fetch_retry_after) where dirty;
create index repository_sync_state_scan_age
    on repository_sync_state (last_open_pr_scan_at, fetch_retry_after);
-- Backfill order: repositories with backfill switched on, highest priority first.
create index repository_sync_state_backfill_order
    on repository_sync_state (backfill_priority desc, repository_id) where backfill_mode <> 'off';

comment on table repository_sync_state is 'Per-repository sync bookkeeping; one row per repository.';
comment on column repository_sync_state.fetch_request_seq is
    'Incremented by every fetch request; a fetch pass clears dirty only if it is unchanged since the pass started.';
comment on column repository_sync_state.fetch_pass_seq is
    'fetch_request_seq as read by the start of the latest fetch pass.';
comment on column repository_sync_state.open_pr_missing is 'Open PRs without any snapshot yet: total - current - stale.';

-- =============================================================================================
-- Open-PR inventory (fetch lane) and PR snapshots (refresh and backfill lanes).
-- =============================================================================================

create table open_pr (
    repository_id       bigint      not null references repository (id) on delete cascade,
    number              integer     not null check (number > 0),
    github_id           bigint,
    title               text,
    state               text        not null default 'open' check (state in ('open', 'closed')),
    draft               boolean     not null default false,
    head_sha            text        not null,
    base_sha            text        not null,
    base_ref            text        not null,
    updated_at          timestamptz not null,    -- GitHub's updated_at of the PR, not this row's
    -- null = missing (no snapshot yet); otherwise how the snapshot compares with head/base above.
    freshness           text        check (freshness in ('current', 'stale_head_changed', 'stale_base_moved', 'failed')),
    snapshot_head_sha   text,                    -- head/base of the snapshot this row was last compared with
    snapshot_base_sha   text,
    snapshot_indexed_at timestamptz,
    last_error          text,                    -- why the last snapshot attempt failed (freshness 'failed')
    first_seen_at       timestamptz not null default now(),
    last_seen_at        timestamptz not null default now(),  -- last scan or refresh that saw it open
    primary key (repository_id, number),
    constraint open_pr_current_snapshot check (
        freshness is distinct from 'current' or (snapshot_head_sha is not null and snapshot_head_sha = head_sha))
);
-- The backfill walk: rows that are not current, newest first, resumed from the cursor with
--   where repository_id = ? and freshness is distinct from 'current'
--     and (updated_at, number) < (?, ?) order by updated_at desc, number desc
-- (the predicate must be spelled exactly so for the planner to use this partial index).
create index open_pr_backfill_walk
    on open_pr (repository_id, updated_at desc, number desc) where freshness is distinct from 'current';

comment on table open_pr is
    'Inventory of open PRs per repository, replaced by each fetch (scan) and edited by refresh.';
comment on column open_pr.freshness is
    'current | stale_head_changed | stale_base_moved | failed; null = missing (never snapshotted).';

create table pr_snapshot (
    repository_id       bigint      not null references repository (id) on delete cascade,
    number              integer     not null check (number > 0),
    github_id           bigint,
    title               text,
    state               text        not null check (state in ('open', 'closed')),
    merged              boolean     not null default false,
    draft               boolean     not null default false,
    head_sha            text        not null,
    head_ref            text,
    base_sha            text        not null,
    base_ref            text        not null,
    merge_base_sha      text,                    -- null when unknown
    files_truncated     boolean     not null default false,  -- GitHub listed fewer files than changed_files
    changed_files       integer     not null check (changed_files >= 0),  -- as GitHub reports it
    additions           integer     not null check (additions >= 0),
    deletions           integer     not null check (deletions >= 0),
    updated_at          timestamptz,             -- GitHub's updated_at when the snapshot was taken
    indexed_at          timestamptz not null,
    primary key (repository_id, number)
);
comment on table pr_snapshot is
    'The latest snapshot of a PR (one per PR, replaced when rebuilt). It outlives the PR''s inventory row.';

-- Natural keys all the way down: rebuilding the same PR at the same head writes identical rows.
create table snapshot_file (
    repository_id       bigint      not null,
    number              integer     not null,
    ordinal             integer     not null check (ordinal >= 0),  -- position in GitHub's file list
    path                text        not null,
    previous_path       text,                    -- renames and copies
    status              text        not null,    -- GitHub's status (added, removed, modified, renamed, ...), unchecked
    additions           integer     not null check (additions >= 0),
    deletions           integer     not null check (deletions >= 0),
    changes             integer     not null check (changes >= 0),
    blob_sha            text,
    patch               text,                    -- null when GitHub sent none (binary or very large)
    primary key (repository_id, number, ordinal),
    foreign key (repository_id, number) references pr_snapshot (repository_id, number) on delete cascade
);

create table snapshot_hunk (
    repository_id       bigint      not null,
    number              integer     not null,
    file_ordinal        integer     not null,
    ordinal             integer     not null check (ordinal >= 0),  -- position within the file's patch
    old_start           integer     not null check (old_start >= 0),
    old_count           integer     not null check (old_count >= 0),
    new_start           integer     not null check (new_start >= 0),
    new_count           integer     not null check (new_count >= 0),
    section             text,                    -- text after the closing @@, if any
    primary key (repository_id, number, file_ordinal, ordinal),
    foreign key (repository_id, number, file_ordinal)
        references snapshot_file (repository_id, number, ordinal) on delete cascade
);

-- =============================================================================================
-- Webhook intake (SPEC §3 "Webhooks").
-- =============================================================================================

-- One pending hint per PR: a new webhook for a PR that already has one bumps count and
-- last_seen_at. The refresh lane deletes a hint only `where count = <count it read>`, so a hint
-- that arrived during the refresh survives it.
create table refresh_hint (
    repository_id       bigint      not null references repository (id) on delete cascade,
    number              integer     not null check (number > 0),
    first_seen_at       timestamptz not null,
    last_seen_at        timestamptz not null,
    count               integer     not null default 1 check (count > 0),
    last_action         text,                    -- webhook action of the latest hint (opened, synchronize, ...)
    attempts            integer     not null default 0 check (attempts >= 0),
    last_attempt_at     timestamptz,
    last_error          text,
    primary key (repository_id, number)
);
-- Oldest pending hint overall (which repository to refresh next)...
create index refresh_hint_oldest on refresh_hint (first_seen_at);
-- ...and a repository's pending hints in arrival order (the primary key serves counts per repository).
create index refresh_hint_repository on refresh_hint (repository_id, first_seen_at);

create table webhook_delivery (
    delivery_id         text        primary key,  -- X-GitHub-Delivery; GitHub redeliveries reuse it
    event               text        not null,     -- X-GitHub-Event
    action              text,
    received_at         timestamptz not null default now(),
    repository_id       bigint      references repository (id) on delete set null,  -- null when untracked
    repository_full_name text,                    -- as the payload named it
    number              integer,
    outcome             text        not null check (outcome in ('hinted', 'ignored'))
);
create index webhook_delivery_received_at on webhook_delivery (received_at);
create index webhook_delivery_repository on webhook_delivery (repository_id) where repository_id is not null;

comment on table webhook_delivery is 'Accepted deliveries, for dedupe on delivery_id; pruned by received_at.';
