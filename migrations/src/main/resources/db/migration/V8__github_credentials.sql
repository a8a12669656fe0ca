-- changesync schema, version 8: many GitHub App installations, rate limits as a shared budget
-- (issue 13).
--
-- A credential is named as the GitHub client names it for its caches: 'installation:<app>:<id>'
-- for a GitHub App installation, 'token:<hash prefix>' for a token, 'anonymous' -- never a secret.

-- The credential the repository was last read under (null: not read yet). Work picking skips a
-- repository whose credential's budget is used up until that budget's reset.
alter table repository_sync_state
    add column github_credential text;

comment on column repository_sync_state.github_credential is
    'The GitHub credential this repository was last read under (installation id or token hash).';

-- Each credential's rate limit as last seen by any worker. A worker's observation replaces the
-- row when it belongs to a later window (later reset_at), or to the same window with fewer
-- requests remaining, so the row always shows the most used-up state known of the newest window.
-- secondary_until: a secondary rate limit GitHub imposed on the credential, until then.
create table github_credential_rate_limit (
    credential          text        primary key,
    remaining           integer     not null,
    request_limit       integer     not null,
    reset_at            timestamptz not null,
    secondary_until     timestamptz,
    updated_at          timestamptz not null
);

comment on table github_credential_rate_limit is
    'GitHub rate limit per credential (installation or token hash), as last seen by any worker.';

-- The GitHub App installations `changesync track --installation` asked to track in full: every
-- repository the installation can see is tracked, and the set kept current (the
-- installation_repositories webhook and a periodic re-list).
create table github_installation (
    installation_id         bigint      primary key,
    account                 text,                    -- the user or organisation it is installed on
    tracks_all              boolean     not null default false,
    -- the backfill mode and priority its repositories are tracked with when they arrive
    backfill_mode           text        not null default 'open_only'
                                constraint github_installation_backfill_mode
                                check (backfill_mode in ('off', 'open_only')),
    backfill_priority       integer     not null default 0,
    repositories_listed_at  timestamptz,             -- last full list of its repositories (null: never)
    created_at              timestamptz not null default now()
);

comment on table github_installation is
    'GitHub App installations whose repositories changesync tracks in full.';

-- The installation that made changesync track the repository (null: tracked by name).
alter table repository
    add column github_installation_id bigint;

create index repository_github_installation on repository (github_installation_id)
    where github_installation_id is not null;

comment on column repository.github_installation_id is
    'The GitHub App installation whose tracking brought this repository in (null: tracked by name).';
