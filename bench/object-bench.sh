#!/usr/bin/env bash
# object-bench.sh OUTDIR — Stackbox's Swift API against Debian's real Swift (swift-ref.sh: Swift 2.30,
# one replica, proxy + account/container/object servers, tempauth), measured back to back in this
# run with the same client (../shared/tools/bench/objstore-bench.sh: 4 KiB PUT and GET with 16
# clients, one 256 MiB object PUT and GET with curl, a 10,000-object listing), then compared with
# ratio.sh; then kill -9 during a PUT load (bench/object-crash.ts): every acknowledged object must
# read back byte-equal after the restart.
# Writes OUTDIR/object-swift.tsv, object-stackbox.tsv, object-ratio.txt, object-crash.tsv.
# Env: BENCH_PORT (5083) BENCH_OBJECT_RUNS (3) BENCH_OBJECT_DURATION (10) BENCH_SWIFT_REF=0 (skip the real Swift)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=${1:?usage: object-bench.sh OUTDIR}
mkdir -p "$OUT"
SHARED=${SHARED_TOOLS:-$ROOT/../shared/tools}
PORT=${BENCH_PORT:-5083}
RUNS=${BENCH_OBJECT_RUNS:-3} DUR=${BENCH_OBJECT_DURATION:-10}
DATA=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT

if [ "${BENCH_SWIFT_REF:-1}" = 1 ]; then
  bash "$SHARED/bench/swift-ref.sh" start >"$OUT/swift-ref.log" 2>&1 || { cat "$OUT/swift-ref.log" >&2; exit 1; }
  bash "$SHARED/bench/objstore-bench.sh" --label swift --runs "$RUNS" --duration "$DUR" \
    --server-sids "$(bash "$SHARED/bench/swift-ref.sh" sids)" >"$OUT/object-swift.tsv" 2>"$OUT/object-swift.err" || true
  bash "$SHARED/bench/swift-ref.sh" stop >/dev/null 2>&1 || true
  cat "$OUT/object-swift.tsv"
fi

setsid node "$ROOT/dist/src/cli/main.js" serve --data-dir "$DATA/sb" --port "$PORT" --admin-password password \
  --log-level warn >"$OUT/object-stackbox.log" 2>&1 &
PID=$!
# The port answers before a first start's bootstrap is done: wait until the admin can log in.
until curl -sf -o /dev/null -H 'X-Auth-User: admin:admin' -H 'X-Auth-Key: password' "http://127.0.0.1:$PORT/auth/v1.0"; do
  kill -0 "$PID" 2>/dev/null || { tail -30 "$OUT/object-stackbox.log" >&2; exit 1; }
  sleep 0.1
done
bash "$SHARED/bench/objstore-bench.sh" --label stackbox --auth "http://127.0.0.1:$PORT/auth/v1.0" --user admin:admin --key password \
  --runs "$RUNS" --duration "$DUR" --server-sids "$PID" >"$OUT/object-stackbox.tsv" 2>"$OUT/object-stackbox.err"
RSS=$(awk '/^VmRSS/{print int($2/1024)}' "/proc/$PID/status")
printf 'stackbox\tserver RSS after the object benchmark\t%s\tMB\n' "$RSS" >>"$OUT/object-stackbox.tsv"
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
cat "$OUT/object-stackbox.tsv"
if [ -s "$OUT/object-swift.tsv" ]; then
  echo
  bash "$SHARED/bench/ratio.sh" "$OUT/object-swift.tsv" "$OUT/object-stackbox.tsv" | tee "$OUT/object-ratio.txt"
fi
echo
node "$ROOT/dist/bench/object-crash.js" "$DATA/crash" "$PORT" "${BENCH_CRASH_SECONDS:-5}" | tee "$OUT/object-crash.tsv"
