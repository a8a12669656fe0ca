-- changesync schema, version 2: lease rows are updated in place (heap-only tuple updates).
--
-- Claims, heartbeats and releases change owner_id, stale_at and the other holder columns of one
-- lease row. While any index covered one of those columns (or named it in a partial-index
-- predicate), every such update wrote a new entry into every index of the table: a heartbeat, the
-- most frequent write changesync makes, cost three index insertions and left three dead entries
-- for vacuum. With the primary key as the only index, PostgreSQL can update a lease row on its own
-- page without touching any index (a HOT update), and the dead versions are pruned on the page.
--
-- Nothing needed the two indexes dropped here: every lease operation finds its row by the primary
-- key (resource, lane); claim-next joins its candidates to the primary key; the recovery pass and
-- the lease listing read every held lease anyway (one lease row per repository and lane).
drop index lease_claimable;
drop index lease_owner;

-- Leave room on each page for the new versions of its rows, so that updates stay on the page.
-- Applies to pages written from now on; a VACUUM FULL of the (small) table applies it to all.
alter table lease set (fillfactor = 70);

comment on table lease is
    'One fenced lease per (resource, lane). State at database time t: FREE (owner_id null), '
    'HELD (stale_at > t), STALE (owner present, stale_at <= t). Only the primary key is indexed, '
    'so that lease updates are HOT; see V2__lease_hot_updates.sql.';
