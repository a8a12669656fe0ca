-- changesync schema, version 6: GitHub ETags kept in the database (issue 11).
--
-- The ETag of a GitHub response whose data the lanes stored, keyed by the request URL (with its
-- query) and the identity of the credential that made it (a token's hash prefix, the App
-- installation, or 'anonymous' -- never a secret). Any worker, also right after a restart, can
-- repeat the request with If-None-Match; GitHub's 304 costs no rate limit and tells the lane that
-- what it stored is still what GitHub shows. Bodies are not kept. A row is written in the same
-- transaction as the data it stands for, so an ETag is never ahead of the stored data.
create table github_etag (
    credential          text        not null,
    url                 text        not null,
    repository_id       bigint      not null references repository (id) on delete cascade,
    etag                text        not null,
    -- For a page of a listing: the next page the stored listing went on to (null: the last page
    -- the listing consumed), and how many items the page held.
    next_url            text,
    items               integer,
    stored_at           timestamptz not null,
    -- Last time the ETag was stored or GitHub confirmed it (304); old rows are pruned by this.
    confirmed_at        timestamptz not null,
    primary key (credential, url)
);

create index github_etag_repository on github_etag (repository_id, confirmed_at);

comment on table github_etag is
    'ETags of GitHub responses whose data is stored, per URL and credential identity (no bodies).';
