#!/usr/bin/env bash
# npm run bench — Stackbox identity against Debian's real Keystone, measured in one run on
# this machine, printed side by side, then Stackbox networking (bench/network-bench.sh) on
# SQLite and, as the same-run reference, on PostgreSQL (bench/results/<time>/). Figures go
# to BENCHMARKS.md.
#   BENCH_NETWORK=0   skip the network benchmark
#   BENCH_COMPUTE=0   skip the compute benchmark (bench/compute-bench.sh: 10,000 simulated hosts,
#                     1,000 boots, RSS at 10,000 servers, a 256 MiB image vs the real Swift's big object)
#   BENCH_VOLUME=0    skip the volume benchmark (bench/volume-bench.sh: volume create rate, attach/detach
#                     cycles, 1 GiB backup and restore against a dd copy on the same disk)
#   BENCH_OBJECT=0    skip the object storage benchmark (bench/object-bench.sh: Stackbox's Swift API
#                     against Debian's real Swift in the same run, and kill -9 under PUT load)
#   BENCH_TEMPEST=1   also time a Tempest identity run against both (several minutes each)
#   BENCH_REFERENCE=0 skip the real Keystone
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${SHARED_TOOLS:-$ROOT/../shared/tools}
OUT=$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
[ -d node_modules ] || npm ci
npx tsc -p .

PORT=${BENCH_PORT:-5080}
DATA=$(mktemp -d)
SB_PID=""
cleanup() { [ -n "$SB_PID" ] && kill "$SB_PID" 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT

# Same settings as the reference Keystone (reference-keystone.sh): bcrypt cost 4 (our default
# is 12) and its [security_compliance] values, so Tempest runs the same tests against both.
export STACKBOX_BCRYPT_ROUNDS=${STACKBOX_BCRYPT_ROUNDS:-4}
export STACKBOX_LOCKOUT_FAILURE_ATTEMPTS=2 STACKBOX_LOCKOUT_DURATION=5 STACKBOX_UNIQUE_LAST_PASSWORD_COUNT=2
TEMPEST_ENV=(SECURITY_COMPLIANCE=true LOCKOUT_ATTEMPTS=2 LOCKOUT_DURATION=5 UNIQUE_LAST_PASSWORD_COUNT=2)
start_ms=$(date +%s%3N)
setsid node dist/src/cli/main.js serve --data-dir "$DATA" --port "$PORT" --admin-password password --log-level warn >"$OUT/stackbox.log" 2>&1 &
SB_PID=$!
AUTH=http://127.0.0.1:$PORT/identity/v3
BODY='{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"id":"default"},"password":"password"}}},"scope":{"project":{"name":"admin","domain":{"id":"default"}}}}}'
until curl -sf -o /dev/null -X POST "$AUTH/auth/tokens" -H 'content-type: application/json' -d "$BODY"; do sleep 0.02; done
first_ms=$(( $(date +%s%3N) - start_ms ))
sleep 2
idle_rss=$(awk '/^VmRSS/{print int($2/1024)}' "/proc/$SB_PID/status")
{
  printf 'stackbox\tstart to first token\t%s\tms\n' "$first_ms"
  printf 'stackbox\tidle RSS\t%s\tMB\n' "$idle_rss"
  bash bench/identity-bench.sh stackbox "$AUTH" "$SB_PID"
  [ "${BENCH_NETWORK:-1}" = 1 ] && bash bench/network-bench.sh stackbox "http://127.0.0.1:$PORT" "$SB_PID"
} | tee "$OUT/stackbox.tsv"

if [ "${BENCH_TEMPEST:-0}" = 1 ]; then
  t0=$(date +%s)
  env "${TEMPEST_ENV[@]}" bash "$SHARED/tempest/run.sh" --auth-url "$AUTH" --services identity --output "$OUT/tempest-stackbox" >/dev/null 2>&1 || true
  printf 'stackbox\ttempest identity wall time\t%s\ts\n' "$(( $(date +%s) - t0 ))" | tee -a "$OUT/stackbox.tsv"
fi
kill "$SB_PID"; SB_PID=""

if [ "${BENCH_REFERENCE:-1}" = 1 ]; then
  REF=$SHARED/tempest/reference-keystone.sh
  bash "$REF" start >"$OUT/keystone-start.log" 2>&1
  KS_PID=$(cat /tmp/ref-keystone/uwsgi.pid 2>/dev/null || echo "")
  bash bench/identity-bench.sh keystone http://127.0.0.1:5000/v3 "$KS_PID" | tee "$OUT/keystone.tsv"
  if [ "${BENCH_TEMPEST:-0}" = 1 ]; then
    t0=$(date +%s)
    env "${TEMPEST_ENV[@]}" bash "$SHARED/tempest/run.sh" --auth-url http://127.0.0.1:5000/v3 --services identity --output "$OUT/tempest-keystone" >/dev/null 2>&1 || true
    printf 'keystone\ttempest identity wall time\t%s\ts\n' "$(( $(date +%s) - t0 ))" | tee -a "$OUT/keystone.tsv"
  fi
  bash "$REF" stop >/dev/null 2>&1 || true
  echo
  bash "$SHARED/bench/ratio.sh" "$OUT/keystone.tsv" "$OUT/stackbox.tsv" | tee "$OUT/ratio.txt"
fi
if [ "${BENCH_NETWORK:-1}" = 1 ]; then
  # The same network benchmark with the state on PostgreSQL (a throwaway cluster, as the tests use).
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -n "$PGBIN" ]; then
    PGD=$(mktemp -d); chown postgres "$PGD" 2>/dev/null || true
    PGRUN() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    PGRUN "$PGBIN/initdb" -D "$PGD/data" -A trust -U postgres >/dev/null
    PGRUN "$PGBIN/pg_ctl" -D "$PGD/data" -o "-p 55433 -k $PGD -c listen_addresses=127.0.0.1 -c fsync=on" -l "$PGD/log" -w start >/dev/null
    setsid node dist/src/cli/main.js serve --database postgres://postgres@127.0.0.1:55433/postgres --port "$PORT" --admin-password password --log-level warn >"$OUT/stackbox-pg.log" 2>&1 &
    SB_PID=$!
    until curl -sf -o /dev/null -X POST "$AUTH/auth/tokens" -H 'content-type: application/json' -d "$BODY"; do sleep 0.05; done
    # PostgreSQL's own processes are part of the server under test, not a disturbance.
    BENCH_EXTRA_SERVER_PID=$(head -1 "$PGD/data/postmaster.pid") \
      bash bench/network-bench.sh stackbox-postgres "http://127.0.0.1:$PORT" "$SB_PID" | tee "$OUT/stackbox-pg.tsv"
    kill "$SB_PID"; SB_PID=""; sleep 1
    PGRUN "$PGBIN/pg_ctl" -D "$PGD/data" -m fast stop >/dev/null; rm -rf "$PGD"
  fi
fi
if [ "${BENCH_COMPUTE:-1}" = 1 ]; then
  bash bench/compute-bench.sh "$OUT"
fi
if [ "${BENCH_VOLUME:-1}" = 1 ]; then
  bash bench/volume-bench.sh "$OUT"
fi
if [ "${BENCH_OBJECT:-1}" = 1 ]; then
  bash bench/object-bench.sh "$OUT"
fi
for who in stackbox keystone; do
  [ -f "$OUT/tempest-$who/summary.txt" ] && echo "tempest $who: $(head -1 "$OUT/tempest-$who/summary.txt")"
done
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/{print $2}') GiB, node $(node --version)"
echo "results in $OUT"
