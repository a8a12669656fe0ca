#!/bin/bash
# changesync's lease store beside its peers, on the same PostgreSQL server, in one command.
#
# Usage: benchmarks/compare.sh [threads] [seconds]       e.g. benchmarks/compare.sh 8 15
#
# Two rounds. Each round runs, one after the other and each in a throw-away database of its own
# (created, migrated and dropped by the benchmark jar), with `threads` client threads, a pool of
# `threads` connections, 10,000 keys, `seconds` of warm-up and `seconds` measured:
#   jdbc-cycle           plain JDBC: the conditional claim UPDATE, then the release UPDATE
#   shedlock             ShedLock 6 JdbcLockProvider lock + unlock over 1,000 names
#   jdbc-audited         jdbc-cycle whose release also inserts the holding's event row (the floor of
#                        an audited cycle: not a peer, it tells the audit's cost from the store's)
#   claim-release        changesync claim + release, shipped defaults (asynchronous release)
#   claim-release sync   the same with --release-commit sync
#   db-scheduler         db-scheduler 16 lock-and-fetch executions of an empty task
#   claim-next           changesync claim-next + release, one lease per claim-next
#   claim-next-batch     the same, the threads being one worker process's: a thread that finds
#                        none of the process's claimed leases left claims the next 4 × `threads`
#                        for them all in one statement (--claim-batch), as db-scheduler's poller
#                        here fetches up to 4 × threads (pollUsingLockAndFetch(1.0, 4.0)) for its
#                        executor threads; each lease released on its own
#   heartbeat            changesync batched heartbeats: each thread renews its 1, 100 or 1,000
#                        held leases with one statement (leases renewed/s and statements/s)
# and then prints, per round, each changesync figure divided by each peer's from the same round.
# The server is $CHANGESYNC_DATABASE_URL (default jdbc:postgresql://127.0.0.1:5432/postgres?user=
# postgres). Full output of every run is kept in $COMPARE_OUT (default a temporary directory).
set -euo pipefail

threads=${1:-8}
secs=${2:-15}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
jar="$here/target/changesync-benchmarks.jar"
url=${CHANGESYNC_DATABASE_URL:-jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}
outdir=${COMPARE_OUT:-$(mktemp -d -t changesync-compare.XXXXXX)}
mkdir -p "$outdir"

command -v java >/dev/null || { echo "compare.sh: java not found" >&2; exit 1; }
if [ ! -f "$jar" ] || [ -n "$(find "$here/src" "$here/pom.xml" "$repo/sync-engine/src" \
      "$repo/lease-core/src" "$repo/migrations/src" -newer "$jar" -print -quit)" ]; then
  echo "== building $jar"
  (cd "$repo" && ./mvnw -q -pl benchmarks -am package -DskipTests)
fi

# name|flags, in the order they run within a round (peers and changesync interleaved).
runs=(
  "jdbc-cycle|--scenario jdbc-cycle"
  "claim-release|--scenario claim-release"
  "shedlock|--scenario shedlock"
  "jdbc-audited|--scenario jdbc-audited"
  "claim-release-sync|--scenario claim-release --release-commit sync"
  "db-scheduler|--scenario db-scheduler"
  "claim-next|--scenario claim-next"
  "claim-next-batch|--scenario claim-next --claim-batch $((4 * threads))"
  "heartbeat|--scenario heartbeat"
)

results="$outdir/results.txt"
: >"$results"
for round in 1 2; do
  for entry in "${runs[@]}"; do
    name=${entry%%|*}
    flags=${entry#*|}
    log="$outdir/round$round-$name.txt"
    echo "== round $round: $name ($threads threads, ${secs}s + ${secs}s warm-up)"
    # shellcheck disable=SC2086
    java -jar "$jar" --url "$url" --threads "$threads" --seconds "$secs" --warmup "$secs" \
      $flags >"$log" 2>&1 || { echo "compare.sh: $name failed, see $log" >&2; exit 1; }
    grep -E '^   (setup|machine CPU|WARNING)' "$log" | sed 's/^/   /' || true
    grep '^RESULT ' "$log" | while read -r line; do
      scenario=$(sed -E 's/^RESULT scenario=([^ ]+).*/\1/' <<<"$line")
      # heartbeat runs one scenario per held-lease count: heartbeat-1, heartbeat-100, ...
      label=$name; [ "$name" = heartbeat ] && label=$scenario
      echo "round=$round name=$label ${line#RESULT }" >>"$results"
    done
  done
done

echo
echo "== results: $threads threads, ${secs} s measured after ${secs} s warm-up; logs in $outdir"
awk '
  function field(line, key,   n, i, parts, kv) {
    n = split(line, parts, " ")
    for (i = 1; i <= n; i++) { split(parts[i], kv, "="); if (kv[1] == key) return kv[2] }
    return ""
  }
  {
    r = field($0, "round"); n = field($0, "name")
    ops[r, n] = field($0, "ops_per_s"); p99[r, n] = field($0, "p99_ms")
    st[r, n] = field($0, "statements_per_s"); names[n] = 1; rounds[r] = 1
  }
  END {
    k = split("jdbc-cycle jdbc-audited shedlock db-scheduler claim-release claim-release-sync claim-next claim-next-batch heartbeat-1 heartbeat-100 heartbeat-1000", order, " ")
    printf "%-20s %14s %14s %10s %10s %14s\n", "bench", "round 1 ops/s", "round 2 ops/s", "p99 ms 1", "p99 ms 2", "statements/s 1"
    for (i = 1; i <= k; i++) {
      n = order[i]; if (!(n in names)) continue
      printf "%-20s %14.1f %14.1f %10s %10s %14.1f\n", n, ops[1, n], ops[2, n], p99[1, n], p99[2, n], st[1, n]
    }
    print "(ops: cycles for claim+release and lock+unlock; leases claimed and released for claim-next;"
    print " executions for db-scheduler;"
    print " leases renewed for heartbeat-N, N leases per thread and statement)"
    print ""
    printf "%-44s %9s %9s %8s\n", "ratio (same round)", "round 1", "round 2", "target"
    ratio("claim-release", "shedlock", 1.2); ratio("claim-release", "jdbc-cycle", 1.0)
    ratio("claim-release", "jdbc-audited", 0)
    ratio("claim-release-sync", "shedlock", 1.0); ratio("claim-release-sync", "jdbc-cycle", 0)
    ratio("claim-next", "db-scheduler", 0); ratio("claim-next-batch", "db-scheduler", 1.1)
  }
  function ratio(a, b, target,   r1, r2, verdict) {
    if (ops[1, b] == 0 || ops[2, b] == 0) return
    r1 = ops[1, a] / ops[1, b]; r2 = ops[2, a] / ops[2, b]
    verdict = target == 0 ? "-" : ((r1 >= target && r2 >= target) ? ">= " target " met" : ">= " target " MISSED")
    printf "%-44s %9.2f %9.2f %s\n", a " / " b, r1, r2, verdict
  }
' "$results"
