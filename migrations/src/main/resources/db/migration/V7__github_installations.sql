-- changesync schema, version 7: GitHub App installations (issue 13).
--
-- With App credentials and no fixed installation id, changesync finds the installation of each
-- repository's owner itself and reads the repository with that installation's token. The
-- installation a repository was last seen under is kept on the repository (null: the configured
-- credential -- a token, a fixed installation, or anonymous).
alter table repository
    add column github_installation_id bigint;

comment on column repository.github_installation_id is
    'The GitHub App installation whose token reads this repository (null: the configured credential).';

-- The installations changesync knows of. `tracks_all`: `changesync track --installation` asked for
-- every repository the installation can see to be tracked, and kept current (the
-- installation_repositories webhook and a periodic re-list).
create table github_installation (
    installation_id         bigint      primary key,
    account                 text        not null,    -- the user or organisation it is installed on
    tracks_all              boolean     not null default false,
    repositories_listed_at  timestamptz,             -- last full list of its repositories (null: never)
    created_at              timestamptz not null default now()
);

comment on table github_installation is
    'GitHub App installations changesync has found or was told to track in full.';
