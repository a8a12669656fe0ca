#!/bin/bash
# The most claim+release cycles this PostgreSQL server can do, beside pg-limit.sh, in one run.
#
# Usage: benchmarks/ceiling.sh [clients] [seconds]     e.g. benchmarks/ceiling.sh 8 15
#
# A cycle is pg-limit.sh's conditional UPDATE (the claim) followed by its inverse (the release),
# each its own transaction, run by pgbench with no client-side work at all. Every cycle writes
# twice, while pg-limit.sh's transactions mostly write nothing once several clients share its
# 10,000 rows (docs/benchmarks.md). Three runs, back to back:
#   pg-limit       ../shared/bench/pg-limit.sh itself
#   ceiling        claim + release, both waiting for their commit to reach disk
#   ceiling-async  the same, the release committing with synchronous_commit = off
#                  (what the lease store does by default)
# and the ratio of each ceiling to pg-limit: no lease store can exceed it on this server.
# Needs pgbench and psql; uses PGHOST/PGPORT/PGUSER (default 127.0.0.1, 5432, postgres).
set -euo pipefail
clients=${1:-8} secs=${2:-15}
here=$(cd "$(dirname "$0")" && pwd)
limit_script="$here/../../shared/bench/pg-limit.sh"
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
cycles() { # cycles SCRIPT -> cycles per second
  setup
  pgbench -n -c "$clients" -j 2 -T "$secs" -f "$here/pgbench/$1" $db 2>&1 \
    | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1
}

limit=$(bash "$limit_script" "$clients" "$secs" | sed -n 's/^tps=//p')
ceiling=$(cycles claim-release.sql)
ceiling_async=$(cycles claim-release-async.sql)
awk -v l="$limit" -v f="$ceiling" -v a="$ceiling_async" -v n="$clients" 'BEGIN {
  printf "pg-limit      clients=%d tps=%.1f\n", n, l
  printf "ceiling       clients=%d cycles_per_s=%.1f ratio=%.3f\n", n, f, f / l
  printf "ceiling-async clients=%d cycles_per_s=%.1f ratio=%.3f\n", n, a, a / l
}'
