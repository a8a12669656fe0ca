#!/usr/bin/env bash
# Status load: GET .../status for random tracked repositories and GET /healthz, each with wrk at
# CONNECTIONS connections for DURATION, against the server jar on a throw-away database seeded with
# REPOS tracked repositories. Prints p50/p99 and requests/s of both and the ratio (issue 13).
#
#   CHANGESYNC_TEST_DATABASE_URL='jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres' \
#     benchmarks/status-load.sh
#
# Settings (environment): REPOS (100000), CONNECTIONS (64), THREADS (2), DURATION (30s),
# POOL_SIZE (CHANGESYNC_DATABASE_POOL_SIZE of the server; unset: the default of role http),
# JAVA_OPTS (extra JVM options of the server, e.g. a flight recording),
# JAR (http-adapter/target/changesync-server.jar; built with `./mvnw -q -pl http-adapter -am
# package -DskipTests` when missing), PSQL_URL (a libpq URL of the server holding the throw-away
# database; default derived from CHANGESYNC_TEST_DATABASE_URL).
set -euo pipefail
cd "$(dirname "$0")/.."

REPOS=${REPOS:-100000}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
DURATION=${DURATION:-30s}
JAR=${JAR:-http-adapter/target/changesync-server.jar}
PORT=${PORT:-18089}
DB=changesync_status_load_$$

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >&2; else sudo apt-get install -y wrk >&2; fi
fi
if [ ! -f "$JAR" ]; then
  ./mvnw -q -pl http-adapter -am package -DskipTests
fi

# jdbc:postgresql://HOST:PORT/DB?user=U&password=P -> postgresql://U:P@HOST:PORT/DB
jdbc=${CHANGESYNC_TEST_DATABASE_URL:?set CHANGESYNC_TEST_DATABASE_URL (a JDBC URL of a PostgreSQL to create a database on)}
hostport=$(sed -E 's#^jdbc:postgresql://([^/]+)/.*#\1#' <<<"$jdbc")
user=$(sed -nE 's#.*[?&]user=([^&]*).*#\1#p' <<<"$jdbc")
password=$(sed -nE 's#.*[?&]password=([^&]*).*#\1#p' <<<"$jdbc")
auth=${user}${password:+:$password}
PSQL_URL=${PSQL_URL:-postgresql://${auth:+$auth@}$hostport/postgres}
DB_URL=${PSQL_URL%/*}/$DB
JDBC_DB="jdbc:postgresql://$hostport/$DB?user=$user${password:+&password=$password}"

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  psql -q "$PSQL_URL" -c "drop database if exists $DB with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql -q "$PSQL_URL" -c "create database $DB" >/dev/null

# The server migrates the empty database on start (role http: no workers, no GitHub).
CHANGESYNC_DATABASE_URL="$JDBC_DB" CHANGESYNC_ROLE=http CHANGESYNC_HTTP_PORT=$PORT \
  ${POOL_SIZE:+CHANGESYNC_DATABASE_POOL_SIZE=$POOL_SIZE} \
  java -Xmx512m ${JAVA_OPTS:-} -jar "$JAR" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "server not ready" >&2; cat "$work/server.log" >&2; exit 1; }

# A realistic mix: most idle and fetched an hour ago, some dirty, some in backfill, a few never
# fetched, a few failing with a retry-after ahead; owners of 100 repositories each.
psql -q -v ON_ERROR_STOP=1 "$DB_URL" <<SQL
insert into repository (github_id, owner, name, created_at)
select 1000000 + g, 'org' || (g / 100), 'repo-' || g, now() - interval '30 days'
from generate_series(1, $REPOS) g;
insert into repository_sync_state
  (repository_id, backfill_mode, dirty, dirty_since, fetch_request_seq, fetch_pass_seq,
   last_fetch_started_at, last_fetch_finished_at, last_successful_fetch_at)
select id,
       case when id % 10 = 0 then 'open_only' else 'off' end,
       id % 20 = 0, case when id % 20 = 0 then now() - interval '1 minute' end,
       case when id % 50 = 1 then 1 else 3 end, case when id % 50 = 1 then null else 3 end,
       case when id % 50 = 1 then null else now() - interval '1 hour' end,
       case when id % 50 = 1 then null else now() - interval '1 hour' + interval '2 seconds' end,
       case when id % 50 = 1 then null else now() - interval '1 hour' + interval '2 seconds' end
from repository
on conflict (repository_id) do nothing;
analyze;
SQL

cat >"$work/status.lua" <<LUA
math.randomseed(os.time())
local repos = $REPOS
request = function()
  local g = math.random(1, repos)
  return wrk.format("GET", "/v1/changes/repos/org" .. math.floor(g / 100) .. "/repo-" .. g .. "/status")
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %.3f %.3f %d %d\n", summary.requests,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.duration))
end
LUA
cp "$work/status.lua" "$work/healthz.lua"
sed -i 's#^request = function()#request_unused = function()#' "$work/healthz.lua"

base="http://127.0.0.1:$PORT"
curl -sf "$base/v1/changes/repos/org1/repo-100/status" >/dev/null || { echo "status of a seeded repository failed" >&2; exit 1; }
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$work/status.lua" "$base" >/dev/null # warm-up

# CPU time (clock ticks) of the server JVM, and of every PostgreSQL process, from /proc.
cpu_of() { # pid... -> utime + stime summed
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
  done
  echo "$total"
}
pg_pids() { pgrep -x postgres || pgrep postgres || true; }
# Both in the same run: status first, then healthz, on the same server.
for what in status healthz; do
  path=$base; [ "$what" = healthz ] && path=$base/healthz
  jvm_before=$(cpu_of "$server_pid"); pg_before=$(cpu_of $(pg_pids))
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$work/$what.lua" "$path" >"$work/$what.out"
  echo "$(( $(cpu_of "$server_pid") - jvm_before )) $(( $(cpu_of $(pg_pids)) - pg_before ))" >"$work/$what.cpu"
done

summary() { # name file -> "name: N req, p50, p99, req/s, CPU per request"
  read -r _ requests p50 p99 errors micros < <(grep '^RESULT' "$2")
  read -r jvm_ticks pg_ticks <"$work/$1.cpu"
  hz=$(getconf CLK_TCK)
  rps=$(awk -v n="$requests" -v us="$micros" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
  per=$(awk -v n="$requests" -v j="$jvm_ticks" -v p="$pg_ticks" -v hz="$hz" \
    'BEGIN { printf "server %.0f µs + PostgreSQL %.0f µs CPU per request", j / hz * 1e6 / n, p / hz * 1e6 / n }')
  printf '%-8s %9d requests  p50 %7.2f ms  p99 %7.2f ms  %8d req/s  %d errors  %s\n' \
    "$1" "$requests" "$p50" "$p99" "$rps" "$errors" "$per"
  echo "$rps" >"$work/$1.rps"
}
echo "status load: $REPOS repositories, $CONNECTIONS connections, $DURATION each, pool ${POOL_SIZE:-default}"
summary status "$work/status.out"
summary healthz "$work/healthz.out"
awk -v s="$(cat "$work/status.rps")" -v h="$(cat "$work/healthz.rps")" \
  'BEGIN { printf "status/healthz requests/s ratio %.2f (target >= 0.5)\n", s / h }'
