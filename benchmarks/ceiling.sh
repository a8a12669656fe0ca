#!/bin/bash
# The server cost of a lease cycle's two statements alone, on this PostgreSQL server.
#
# Usage: benchmarks/ceiling.sh [clients] [seconds]     e.g. benchmarks/ceiling.sh 8 15
#
# A cycle is two bare UPDATEs, each its own transaction: the conditional claim of a random row of
# 10,000 and its inverse, the release (benchmarks/pgbench/*.sql). pgbench sends them with
# `-M prepared` (server-side prepared statements, as a JDBC client uses) and does no work of its
# own between them. What it measures is the statements' own server cost with no client work: an
# upper bound for any two-statement lease cycle on this server. It is not a target: a real client
# (pool, driver, lease logic) always adds to it; compare a store with its peers (compare.sh).
# Two runs, back to back, each on a fresh table in a throw-away database:
#   ceiling        claim + release, both waiting for their commit to reach disk
#   ceiling-async  the same, the release committing with synchronous_commit = off
#                  (what the lease store does by default)
# Needs pgbench and psql; uses PGHOST/PGPORT/PGUSER (default 127.0.0.1, 5432, postgres).
set -euo pipefail
clients=${1:-8} secs=${2:-15}
here=$(cd "$(dirname "$0")" && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
for tool in pgbench psql; do
  command -v "$tool" >/dev/null || { echo "ceiling.sh: $tool not found" >&2; exit 1; }
done

db=changesync_ceiling_$$
psql -q -c "create database $db" >/dev/null
trap 'psql -q -c "drop database if exists $db with (force)" >/dev/null' EXIT
setup() {
  psql -q -d $db >/dev/null <<'SQL'
set client_min_messages = warning;
drop table if exists lease;
create table lease(id int primary key, owner text, token bigint not null default 0,
                   heartbeat_at timestamptz, expires_at timestamptz);
insert into lease(id) select g from generate_series(1,10000) g;
vacuum analyze lease;
checkpoint;
SQL
}
cycles() { # cycles SCRIPT -> cycles per second (one pgbench transaction is one cycle)
  local out tps
  setup
  out=$(pgbench -n -M prepared -c "$clients" -j 2 -T "$secs" -f "$here/pgbench/$1" $db 2>&1) || {
    echo "ceiling.sh: pgbench failed on $1:" >&2; echo "$out" >&2; exit 1; }
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
  [ -n "$tps" ] || { echo "ceiling.sh: pgbench printed no tps for $1:" >&2; echo "$out" >&2; exit 1; }
  echo "$tps"
}

ceiling=$(cycles claim-release.sql)
ceiling_async=$(cycles claim-release-async.sql)
awk -v f="$ceiling" -v a="$ceiling_async" -v n="$clients" -v s="$secs" 'BEGIN {
  printf "ceiling       clients=%d seconds=%d cycles_per_s=%.1f  (claim and release both durable)\n", n, s, f
  printf "ceiling-async clients=%d seconds=%d cycles_per_s=%.1f  (release asynchronous, the store default)\n", n, s, a
  print  "(bare statements from pgbench -M prepared, no client work: an upper bound, not a target)"
}'
