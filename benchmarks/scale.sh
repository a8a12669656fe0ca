#!/bin/bash
# Work picking at scale: a throw-away database seeded with REPOS tracked repositories in a realistic
# mix of states (benchmarks ScaleSeed: never scanned, dirty, with hints, in backfill, failing with
# retry-after ahead, leases held elsewhere, most idle), then 1, 2, 4 and 8 concurrent workers picking
# work exactly as a worker's loop does. Prints picks/s and pick latency p50/p99/p99.9 per worker
# count, and fails when a pick takes a repository whose lease is held or whose retry-after lies
# ahead, or when two workers hold one lease at once (issue 13).
#
# Usage: benchmarks/scale.sh [workers] [seconds]      e.g. benchmarks/scale.sh 1,2,4,8 15
#
# Settings (environment): REPOS (100000), WARMUP (10, seconds), CHANGESYNC_DATABASE_URL (default
# jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres).
set -euo pipefail

workers=${1:-1,2,4,8}
secs=${2:-15}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
jar="$here/target/changesync-benchmarks.jar"
url=${CHANGESYNC_DATABASE_URL:-jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}

command -v java >/dev/null || { echo "scale.sh: java not found" >&2; exit 1; }
if [ ! -f "$jar" ] || [ -n "$(find "$here/src" "$here/pom.xml" "$repo/sync-engine/src" \
      "$repo/lease-core/src" "$repo/migrations/src" -newer "$jar" -print -quit)" ]; then
  echo "== building $jar"
  (cd "$repo" && ./mvnw -q -pl benchmarks -am package -DskipTests)
fi
exec java -cp "$jar" dev.changesync.benchmarks.ScaleBenchmark --url "$url" \
  --repositories "${REPOS:-100000}" --workers "$workers" --seconds "$secs" --warmup "${WARMUP:-10}"
