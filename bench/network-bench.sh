#!/usr/bin/env bash
# network-bench.sh LABEL BASE_URL [PID] — measure a Neutron endpoint (Stackbox's) with wrk at
# 16 concurrent connections, printing TSV rows for ratio.sh (LABEL <tab> metric <tab> value <tab> unit):
#   port create/s          POST /v2.0/ports on one network with a /16 subnet (addresses, MACs,
#                          the default security group: the whole create path)
#   list 10,000 ports      GET /v2.0/ports returning 10,000 ports, median of 7 (ms)
#   floating IP associate/s  PUT /v2.0/floatingips/{id} setting port_id, over 200 floating IPs
#                          (each request associates a floating IP with a port, or moves it to
#                          another port, so every request is a real association)
# BASE_URL is the cloud root (http://127.0.0.1:PORT); auth as admin/password.
set -euo pipefail
LABEL=$1 BASE=$2 PID=${3:-}
DUR=${BENCH_DURATION:-10}
CONC=${BENCH_CONNECTIONS:-16}
PW=${BENCH_ADMIN_PASSWORD:-password}
NET=$BASE/networking/v2.0
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
if [ -n "${BENCH_EXTRA_SERVER_PID:-}" ]; then SERVER_SIDS="$SERVER_SIDS $(session_of "$BENCH_EXTRA_SERVER_PID" 2>/dev/null || true)"; fi

BODY=$(printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"id":"default"},"password":"%s"}}},"scope":{"project":{"name":"admin","domain":{"id":"default"}}}}}' "$PW")
TOKEN=$(curl -sf -i -X POST "$BASE/identity/v3/auth/tokens" -H 'content-type: application/json' -d "$BODY" | awk 'tolower($1)=="x-subject-token:"{print $2}' | tr -d '\r')
[ -n "$TOKEN" ] || { echo "network-bench: cannot get a token" >&2; exit 3; }
api() { # method path [json]
  curl -sf -X "$1" "$NET$2" -H "X-Auth-Token: $TOKEN" -H 'content-type: application/json' ${3:+-d "$3"}
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
rate() { awk '/^Requests\/sec:/{print $2}' "$1"; }
errors() { awk '/Non-2xx|Socket errors/{print}' "$1"; }
p99() { awk '$1=="99%"{v=$2; m=1; if (v ~ /us$/) m=0.001; else if (v ~ /ms$/) m=1; else if (v ~ /s$/) m=1000; gsub(/[a-z]+$/,"",v); printf "%.2f", v*m}' "$1"; }
report() { # metric file
  local e; e=$(errors "$2")
  [ -z "$e" ] || echo "# $LABEL $1: $e" >&2
  printf '%s\t%s\t%s\t%s\n' "$LABEL" "$1" "$(rate "$2")" "req/s"
  printf '%s\t%s\t%s\t%s\n' "$LABEL" "$1 p99" "$(p99 "$2")" "ms"
}

# --- port create/s
NET_ID=$(api POST /networks '{"network":{"name":"bench-net"}}' | jq -r .network.id)
api POST /subnets "{\"subnet\":{\"network_id\":\"$NET_ID\",\"cidr\":\"10.64.0.0/16\",\"ip_version\":4,\"enable_dhcp\":false}}" >/dev/null
api PUT /quotas/"$(api GET /networks/"$NET_ID" | jq -r .network.project_id)" '{"quota":{"port":-1,"floatingip":-1}}' >/dev/null
cat >"$WORK/port.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"port":{"network_id":"$NET_ID"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Auth-Token"] = "$TOKEN"
LUA
gated "$WORK/out" wrk -t2 -c"$CONC" -d"${DUR}s" --latency -s "$WORK/port.lua" "$NET/ports"
report "port create" "$WORK/out"

# --- list 10,000 ports (top up to exactly 10,000 first)
have=$(api GET "/ports?network_id=$NET_ID&fields=id" | jq '.ports | length')
need=$((10000 - have))
if [ "$need" -gt 0 ]; then
  seq "$need" | xargs -P 8 -I{} curl -sf -o /dev/null -X POST "$NET/ports" -H "X-Auth-Token: $TOKEN" -H 'content-type: application/json' -d "{\"port\":{\"network_id\":\"$NET_ID\"}}"
fi
if [ "$need" -lt 0 ]; then
  api GET "/ports?network_id=$NET_ID&fields=id&limit=$((-need))" | jq -r '.ports[].id' | xargs -P 8 -I{} curl -sf -o /dev/null -X DELETE "$NET/ports/{}" -H "X-Auth-Token: $TOKEN"
fi
total=$(api GET "/ports?fields=id" | jq '.ports | length')
times=()
for _ in 1 2 3 4 5 6 7; do
  t=$(curl -sf -o "$WORK/list.json" -w '%{time_total}' "$NET/ports" -H "X-Auth-Token: $TOKEN")
  times+=("$(awk -v t="$t" 'BEGIN{printf "%.1f", t*1000}')")
done
n=$(jq '.ports | length' "$WORK/list.json")
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 4p)
printf '%s\t%s\t%s\t%s\n' "$LABEL" "list $n ports (GET /v2.0/ports, median of 7)" "$median" "ms"
[ "$total" = "$n" ] || echo "# $LABEL: expected $total ports in the list, got $n" >&2

# --- floating IP associate/s: 200 floating IPs, 400 ports routed to the public network
PUB=$(api GET '/networks?router:external=true' | jq -r '.networks[0].id')
SUB=$(api POST /subnets "{\"subnet\":{\"network_id\":\"$(api POST /networks '{"network":{"name":"bench-fip-net"}}' | jq -r .network.id)\",\"cidr\":\"10.65.0.0/22\",\"ip_version\":4}}" | jq -r .subnet)
SUB_ID=$(echo "$SUB" | jq -r .id); FNET=$(echo "$SUB" | jq -r .network_id)
RID=$(api POST /routers "{\"router\":{\"name\":\"bench-r\",\"external_gateway_info\":{\"network_id\":\"$PUB\"}}}" | jq -r .router.id)
api PUT "/routers/$RID/add_router_interface" "{\"subnet_id\":\"$SUB_ID\"}" >/dev/null
api PUT /quotas/"$(api GET /routers/"$RID" | jq -r .router.project_id)" '{"quota":{"floatingip":-1,"port":-1}}' >/dev/null
seq 200 | xargs -P 8 -I{} sh -c "curl -sf -X POST '$NET/floatingips' -H 'X-Auth-Token: $TOKEN' -H 'content-type: application/json' -d '{\"floatingip\":{\"floating_network_id\":\"$PUB\"}}' | jq -r .floatingip.id" >"$WORK/fips"
seq 400 | xargs -P 8 -I{} sh -c "curl -sf -X POST '$NET/ports' -H 'X-Auth-Token: $TOKEN' -H 'content-type: application/json' -d '{\"port\":{\"network_id\":\"$FNET\"}}' | jq -r .port.id" >"$WORK/ports"
{
  echo "fips = {"; sed 's/.*/"&",/' "$WORK/fips"; echo "}"
  echo "ports = {"; sed 's/.*/"&",/' "$WORK/ports"; echo "}"
  cat <<LUA
-- Each thread walks its own half of the floating IPs, and each request binds the floating IP
-- to a port other than the one it has (two ports per floating IP, alternating).
local tid, n = 0, 0
local counter = 0
function setup(thread) thread:set("tid", counter); counter = counter + 1 end
function init(args) tid = tonumber(wrk.thread:get("tid")) or 0 end
request = function()
  n = n + 1
  local half = #fips / 2
  local i = (tid * half) + ((n - 1) % half) + 1
  local p = ports[((i - 1) * 2) + (math.floor((n - 1) / half) % 2) + 1]
  return wrk.format("PUT", "$NET/floatingips/" .. fips[i], {["Content-Type"] = "application/json", ["X-Auth-Token"] = "$TOKEN"}, '{"floatingip":{"port_id":"' .. p .. '"}}')
end
LUA
} >"$WORK/fip.lua"
gated "$WORK/out" wrk -t2 -c"$CONC" -d"${DUR}s" --latency -s "$WORK/fip.lua" "$NET/floatingips"
report "floating IP associate" "$WORK/out"

if [ -n "$PID" ]; then
  rss=$(awk '/^VmRSS/{print int($2/1024)}' "/proc/$PID/status" 2>/dev/null || echo 0)
  printf '%s\t%s\t%s\t%s\n' "$LABEL" "RSS after network load" "$rss" "MB"
fi
