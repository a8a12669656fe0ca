#!/bin/bash
# The lease store benchmark beside the physical limit of the same PostgreSQL server, in one run.
#
# Usage: benchmarks/run.sh [threads] [seconds] [LeaseBenchmark flags...]
#   e.g. benchmarks/run.sh 8 15
#        benchmarks/run.sh 16 15 --scenario claim-release
#
# Runs ../shared/bench/pg-limit.sh with `threads` clients (one conditional single-row UPDATE per
# transaction, as fast as PostgreSQL can go), then LeaseBenchmark with `threads` threads, and prints
# claim+release cycles/s ÷ pg-limit tps against the 0.4 target. The server is
# $CHANGESYNC_DATABASE_URL (default jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres);
# pg-limit.sh is pointed at the same host, port and user. Needs java 17+ and pgbench/psql.
set -euo pipefail

threads=${1:-8}
secs=${2:-15}
shift $(( $# < 2 ? $# : 2 ))

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
limit_script="$(dirname "$0")/../../shared/bench/pg-limit.sh"
jar="$here/target/changesync-benchmarks.jar"

url=${CHANGESYNC_DATABASE_URL:-jdbc:postgresql://${PGHOST:-127.0.0.1}:${PGPORT:-5432}/postgres?user=${PGUSER:-postgres}}
# pg-limit.sh uses libpq's variables: take host, port, user and password from the JDBC URL.
PGHOST=$(sed -E 's#^jdbc:postgresql://([^/:?,]+).*#\1#' <<<"$url")
PGPORT=$(sed -nE 's#^jdbc:postgresql://[^/:?,]+:([0-9]+).*#\1#p' <<<"$url")
PGUSER=$(sed -nE 's#.*[?&]user=([^&]*).*#\1#p' <<<"$url")
pw=$(sed -nE 's#.*[?&]password=([^&]*).*#\1#p' <<<"$url")
export PGHOST PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-$(id -un)}
if [ -n "$pw" ]; then export PGPASSWORD=$pw; fi

for tool in java pgbench psql; do
  if ! command -v "$tool" >/dev/null; then
    echo "run.sh: $tool not found (pgbench and psql come with the PostgreSQL client package," \
         "e.g. apt-get install postgresql-client)" >&2
    exit 1
  fi
done
if [ ! -f "$limit_script" ]; then
  echo "run.sh: $limit_script not found" >&2
  exit 1
fi

if [ ! -f "$jar" ] || [ -n "$(find "$here/src" "$here/pom.xml" -newer "$jar" -print -quit)" ]; then
  echo "== building $jar"
  (cd "$repo" && ./mvnw -q -pl benchmarks -am package -DskipTests)
fi

# Busy and total CPU ticks of the machine, for the share of it that went elsewhere.
cpu_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat 2>/dev/null; }
busy_percent() { # busy_percent "b0 t0" "b1 t1"
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
    if (y[2] > x[2]) printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2]); else printf "?" }'
}
before=$(cpu_ticks); sleep 2; idle_check=$(busy_percent "$before" "$(cpu_ticks)")
echo "== machine CPU busy before the run: ${idle_check} %"
if [ "$idle_check" != "?" ] && [ "$idle_check" -gt 15 ]; then
  echo "WARNING: the machine is busy with other work; both measurements will be noisy" >&2
fi

echo "== pg-limit.sh $threads $secs  (server $PGHOST:$PGPORT, user $PGUSER)"
before=$(cpu_ticks)
limit_out=$(bash "$limit_script" "$threads" "$secs")
echo "$limit_out"
echo "machine CPU busy during pg-limit.sh: $(busy_percent "$before" "$(cpu_ticks)") %"
tps=$(sed -n 's/^tps=//p' <<<"$limit_out" | tail -1)
if [ -z "$tps" ]; then
  echo "run.sh: pg-limit.sh printed no tps" >&2
  exit 1
fi

echo
echo "== java -jar $jar --threads $threads --seconds $secs --pg-limit-tps $tps $*"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
java -jar "$jar" --url "$url" --threads "$threads" --seconds "$secs" --pg-limit-tps "$tps" "$@" \
  | tee "$out"

cycles=$(sed -n 's/^RESULT scenario=claim-release .*ops_per_s=\([0-9.]*\).*/\1/p' "$out")
echo
if [ -n "$cycles" ]; then
  awk -v c="$cycles" -v t="$tps" -v n="$threads" 'BEGIN {
    r = c / t
    printf "RATIO threads=%d claim_release_cycles_per_s=%.1f pg_limit_tps=%.1f ratio=%.3f target=0.4 %s\n",
           n, c, t, r, (r >= 0.4 ? "met" : "MISSED")
  }'
else
  echo "RATIO not computed: the claim-release scenario did not run"
fi
