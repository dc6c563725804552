#!/usr/bin/env bash
# npm run bench — Stackbox identity against Debian's real Keystone, measured in one run on
# this machine, printed side by side (bench/results/<time>/). Figures go to BENCHMARKS.md.
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
for who in stackbox keystone; do
  [ -f "$OUT/tempest-$who/summary.txt" ] && echo "tempest $who: $(head -1 "$OUT/tempest-$who/summary.txt")"
done
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/{print $2}') GiB, node $(node --version)"
echo "results in $OUT"
