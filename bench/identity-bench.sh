#!/usr/bin/env bash
# identity-bench.sh LABEL AUTH_URL [PID] — measure one identity endpoint (Stackbox or the real
# Keystone) with wrk at 16 concurrent connections, printing TSV rows for ratio.sh:
#   LABEL <tab> metric <tab> value <tab> unit
# Metrics: password token issue/s, token validate/s (GET /v3/auth/tokens, with catalog),
# GET /v3/projects/s, and the server's RSS when PID is given.
set -euo pipefail
LABEL=$1 AUTH=$2 PID=${3:-}
DUR=${BENCH_DURATION:-10}
CONC=${BENCH_CONNECTIONS:-16}
PW=${BENCH_ADMIN_PASSWORD:-password}
HERE=$(cd "$(dirname "$0")" && pwd)
LIB=${BENCH_LIB:-$HERE/../../shared/tools/bench/lib.sh}
if [ -r "$LIB" ]; then
  # shellcheck disable=SC1090
  . "$LIB"
else
  gated() { local out=$1; shift; "$@" >"$out"; }
fi
MY_SID=$(session_of $$ 2>/dev/null || echo 0)
SERVER_SIDS=${PID:+$(session_of "$PID" 2>/dev/null || true)}

BODY=$(printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"id":"default"},"password":"%s"}}},"scope":{"project":{"name":"admin","domain":{"id":"default"}}}}}' "$PW")
TOKEN=$(curl -sf -i -X POST "$AUTH/auth/tokens" -H 'content-type: application/json' -d "$BODY" | awk 'tolower($1)=="x-subject-token:"{print $2}' | tr -d '\r')
[ -n "$TOKEN" ] || { echo "identity-bench: cannot get a token from $AUTH" >&2; exit 3; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat >"$WORK/issue.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
LUA

rate() { awk '/^Requests\/sec:/{print $2}' "$1"; }
errors() { awk '/Non-2xx|Socket errors/{print}' "$1"; }
run() { # metric url [wrk args...]
  local metric=$1 url=$2; shift 2
  gated "$WORK/out" wrk -t2 -c"$CONC" -d"${DUR}s" --latency "$@" "$url"
  local e; e=$(errors "$WORK/out")
  [ -z "$e" ] || echo "# $LABEL $metric: $e" >&2
  printf '%s\t%s\t%s\t%s\n' "$LABEL" "$metric" "$(rate "$WORK/out")" "req/s"
  printf '%s\t%s\t%s\t%s\n' "$LABEL" "$metric p99" "$(awk '$1=="99%"{v=$2; m=1; if (v ~ /us$/) m=0.001; else if (v ~ /ms$/) m=1; else if (v ~ /s$/) m=1000; gsub(/[a-z]+$/,"",v); printf "%.2f", v*m}' "$WORK/out")" "ms"
}

run "token issue (password)" "$AUTH/auth/tokens" -s "$WORK/issue.lua"
run "token validate" "$AUTH/auth/tokens" -H "X-Auth-Token: $TOKEN" -H "X-Subject-Token: $TOKEN"
run "GET /v3/projects" "$AUTH/projects" -H "X-Auth-Token: $TOKEN"
if [ -n "$PID" ]; then
  rss=0
  for p in $PID $(pgrep -P "$PID" 2>/dev/null || true); do
    r=$(awk '/^VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0); rss=$((rss + r))
  done
  printf '%s\t%s\t%s\t%s\n' "$LABEL" "RSS after load" "$((rss / 1024))" "MB"
fi
