-- changesync schema, version 3: one audit row per lease holding, and a cheaper audit log.
--
-- Until now every claim and every release inserted a lease_event row, and each row went into
-- three btree indexes: a claim-release cycle cost the database two heap inserts and six index
-- insertions on top of its two lease updates (see docs/benchmarks.md). From this version:
--
-- * A claim of a free lease writes no event row. The lease row remembers it (claimed_at, and its
--   token, which is also the claim event's id), and the statement that ends the holding — the
--   release, a reclaim, a manual release or a recovery — writes one row that carries the holding's
--   start in held_since. The claim event is read back from that row (or, while the lease is still
--   held, from the lease row itself): see the view lease_event_log. No event is lost: the claim is
--   on record, on the lease row, from the moment it commits, and the row that ends the holding is
--   written by the same statement that ends it.
-- * A reclaim still writes its row at once (kind 'reclaimed', the new holding's claim event), and
--   marks the lease claim_logged so that the holding's end does not report its claim again.
-- * Event ids and tokens come from one sequence, lease_token_seq: a claim event's id is the token
--   it issued, and ids keep increasing in the order events happen.
-- * lease_event loses its B-tree indexes (the primary key on id, lease_event_resource,
--   lease_event_at): each release paid for two or three index insertions, one of them at a random
--   place. The table is appended to in id and time order, so BRIN indexes on id and at (which cost
--   nothing for rows added to pages not yet summarized) serve what the B-trees served: the newest
--   events (id above a bound, widened until enough rows are found) and pruning by age. Ids stay
--   unique: they come from lease_token_seq, like tokens.

-- A free lease row keeps the claimed_at of its last holding (it is how a release knows when the
-- holding it ends began); the other holder columns are still null exactly when the lease is free.
alter table lease drop constraint lease_owner_fields;
alter table lease add constraint lease_owner_fields check (
    (owner_id is null and worker_name is null and heartbeat_at is null
         and expires_at is null and stale_at is null)
    or (owner_id is not null and worker_name is not null and claimed_at is not null and heartbeat_at is not null
         and expires_at is not null and stale_at is not null and lease_for_us > 0
         and heartbeat_every_us > 0 and stale_after_us > 0));

-- Whether the current (or last) holding's claim is already a lease_event row of its own: true for
-- reclaims (and for every holding that began before this version, whose claims were all logged).
alter table lease add column claim_logged boolean not null default false;
update lease set claim_logged = true;

-- The start of the holding this row ends, when its claim has no row of its own (null otherwise).
-- The claim event is then (id = the holding's token, at = held_since, kind 'claimed').
alter table lease_event add column held_since timestamptz;

alter table lease_event alter column id drop identity if exists;
-- The next value exceeds every event id and every token issued so far.
select setval('lease_token_seq',
              greatest((select coalesce(max(id), 0) from lease_event),
                       (select case when is_called then last_value else last_value - 1 end
                          from lease_token_seq)) + 1,
              false);
alter table lease_event alter column id set default nextval('lease_token_seq');

alter table lease_event drop constraint lease_event_pkey;
drop index lease_event_resource;
drop index lease_event_at;
create index lease_event_id on lease_event using brin (id);
create index lease_event_at on lease_event using brin (at);

-- Every lease event, one row per event, as lease_event held them before this version: the rows
-- themselves, the claims that rows ending a holding carry, and the claims of leases held now.
create view lease_event_log as
select id, at, resource, lane, kind, owner_id, token, previous_owner_id, previous_token, detail
  from lease_event
union all
select case when kind = 'released' then token else previous_token end,
       held_since, resource, lane, 'claimed',
       case when kind = 'released' then owner_id else previous_owner_id end,
       case when kind = 'released' then token else previous_token end,
       null, null, null
  from lease_event
 where held_since is not null
union all
select token, claimed_at, resource, lane, 'claimed', owner_id, token, null, null, null
  from lease
 where owner_id is not null and not claim_logged;

comment on column lease.claimed_at is
    'When the current holding began; on a free row, when the last one began.';
comment on column lease.claim_logged is
    'Whether the current holding''s claim has a lease_event row of its own (reclaims); see V3.';
comment on column lease_event.held_since is
    'Start of the holding this row ends, when that claim has no row of its own; see lease_event_log.';
comment on table lease_event is
    'Append-only lease audit log with bounded retention (pruned by at). One row per reclaim, '
    'release, manual release, recovery and loss; claims of free leases are carried by the row that '
    'ends the holding. Read events through the view lease_event_log.';
comment on view lease_event_log is
    'Every lease event, one row each (claims expanded from held_since and from held leases).';
