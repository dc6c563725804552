#!/usr/bin/env bash
# scripts/test.sh — `npm test`: install what the tests need when it is missing, build, then run
# the whole suite with Node's test runner twice: on SQLite, and on a throwaway PostgreSQL
# cluster started here (127.0.0.1:55432, trust auth, stopped at exit). Then Tempest's identity
# tests, network, image, compute, volume and object storage (scripts/tempest.sh) unless STACKBOX_SKIP_TEMPEST=1. Exits non-zero on any failure.
#   STACKBOX_TEST_ONLY=sqlite|pg            run only one of the two passes
#   STACKBOX_TEST_FILES="dist/test/api/…"   run these instead of dist/test/ (and no tempest)
# Each test has at most 10 minutes, and the runner exits when the tests are done even if a file
# leaves a handle open (--test-timeout, --test-force-exit), so a stuck file cannot hang CI.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export DEBIAN_FRONTEND=noninteractive

# ---- what the tests need
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/openstack ] || need+=(python3-openstackclient)
/usr/bin/python3 -c 'import openstack' >/dev/null 2>&1 || need+=(python3-openstacksdk)
[ -x /usr/bin/tempest ] || need+=(tempest)
[ -x /usr/bin/swift ] || need+=(python3-swiftclient)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}"
  { apt-get update -q && apt-get install -y -q "${need[@]}"; } || { echo "test.sh: apt-get install failed" >&2; exit 1; }
fi
[ -d node_modules ] || npm ci --no-audit --no-fund || { echo "test.sh: npm ci failed" >&2; exit 1; }

# ---- build (tsc emits even with type errors; those still fail the run at the end)
npx tsc -p .
tsc_rc=$?
[ -f dist/src/cli/main.js ] || { echo "test.sh: the build produced no dist/src/cli/main.js" >&2; exit 1; }

# ---- a throwaway PostgreSQL cluster, run as the postgres user
PG_PORT=55432
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
PG_DIR=""
stop_pg() {
  if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
    su postgres -s /bin/sh -c "cd /tmp && '$PG_BIN/pg_ctl' -D '$PG_DIR/data' -m fast -w stop" >/dev/null 2>&1
    rm -rf "$PG_DIR"
  fi
  PG_DIR=""
}
trap stop_pg EXIT
trap 'exit 130' INT TERM

start_pg() {
  [ -n "$PG_BIN" ] || { echo "test.sh: no PostgreSQL under /usr/lib/postgresql" >&2; return 1; }
  id postgres >/dev/null 2>&1 || { echo "test.sh: there is no postgres user" >&2; return 1; }
  PG_DIR=$(mktemp -d /tmp/stackbox-pg.XXXXXX)
  cat >"$PG_DIR/start.sh" <<EOS
cd /tmp
"$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1 || exit 1
"$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_DIR -c max_connections=300" start >/dev/null
EOS
  chown -R postgres "$PG_DIR"
  su postgres -s /bin/sh "$PG_DIR/start.sh" || { cat "$PG_DIR/initdb.log" "$PG_DIR/server.log" >&2 2>/dev/null; return 1; }
}

FILES=${STACKBOX_TEST_FILES:-dist/test/}
run_suite() { # label, then env assignments for the run
  local label=$1 log rc
  shift
  log="$ROOT/.test-$label.log"
  echo "==== node --test --test-concurrency=2 $FILES ($label; full output in ${log#"$ROOT"/})"
  # shellcheck disable=SC2086
  env "$@" node --test --test-concurrency=2 --test-timeout=600000 --test-force-exit --test-reporter=spec $FILES >"$log" 2>&1
  rc=$?
  if [ "$rc" -ne 0 ]; then
    # The spec reporter repeats every failure after the run: print that part.
    if grep -q '^✖ failing tests:' "$log"; then
      awk '/^✖ failing tests:/{f=1} f' "$log" | grep -vE '^ℹ ' | head -n 800
    else
      tail -n 200 "$log"
    fi
  fi
  # Node's summary.
  grep -E '^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms)' "$log" | sed "s/^/[$label] /"
  return "$rc"
}

status=0
rm -f "$ROOT"/.test-*.log
ONLY=${STACKBOX_TEST_ONLY:-}
if [ "$ONLY" != pg ]; then
  run_suite sqlite STACKBOX_TEST_PG= || status=1
fi
if [ "$ONLY" != sqlite ]; then
  if start_pg; then
    run_suite postgres STACKBOX_TEST_PG="postgres://postgres@127.0.0.1:$PG_PORT/postgres" || status=1
  else
    echo "test.sh: could not start PostgreSQL" >&2
    status=1
  fi
  stop_pg
fi

if [ "${STACKBOX_SKIP_TEMPEST:-}" != 1 ] && [ -z "${STACKBOX_TEST_FILES:-}" ] && [ -f scripts/tempest.sh ]; then
  for mode in default scope network image compute volume object; do
    echo "==== tempest $mode"
    bash scripts/tempest.sh "$mode" || status=1
  done
fi

[ "$tsc_rc" -eq 0 ] || { echo "test.sh: tsc reported type errors" >&2; status=1; }
echo "test.sh: $([ "$status" -eq 0 ] && echo PASSED || echo FAILED)"
# One closing line over both passes, in the plain form CI reads ("tests: N passed, N failed, N skipped").
awk '/^ℹ (pass|fail|skipped) /{t[$2]+=$3} END{printf "tests: %d passed, %d failed, %d skipped\n", t["pass"], t["fail"], t["skipped"]}' \
  "$ROOT"/.test-*.log 2>/dev/null
exit "$status"
