#!/usr/bin/env bash
# compute-bench.sh OUTDIR — Stackbox compute on a large simulated fleet, printing TSV rows
# (label, metric, value, unit) to OUTDIR/compute.tsv:
#   first start with $HOSTS simulated hosts (hosts registered as services, hypervisors and
#     resource providers) until the API answers
#   boot $BOOTS servers with 16 concurrent clients until all ACTIVE (bench/compute-boot.ts):
#     wall time and boots/s; the scheduler's decision time per boot (median, p99) from its log
#   RSS after booting up to $SERVERS servers in total on the $HOSTS hosts
#   image transfer: one 256 MiB image, PUT /image/v2/images/{id}/file with curl -T and GET with
#     curl (MB/s, median of 3), against the real Swift's big object (swift-ref.sh +
#     objstore-bench.sh --skip small,list) measured in the same run → OUTDIR/image-vs-swift.txt
# Env: BENCH_HOSTS (10000) BENCH_BOOTS (1000) BENCH_SERVERS (10000) BENCH_SWIFT (1: measure the
#      real Swift too) BENCH_DATABASE (postgres://… instead of SQLite) BENCH_PORT (5081)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=${1:?usage: compute-bench.sh OUTDIR}
mkdir -p "$OUT"
SHARED=${SHARED_TOOLS:-$ROOT/../shared/tools}
. "$SHARED/bench/lib.sh"
HOSTS=${BENCH_HOSTS:-10000} BOOTS=${BENCH_BOOTS:-1000} SERVERS=${BENCH_SERVERS:-10000}
PORT=${BENCH_PORT:-5081}
LABEL=stackbox${BENCH_DATABASE:+-pg}
TSV=$OUT/compute${BENCH_DATABASE:+-pg}.tsv
: >"$TSV"
DATA=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT
row() { printf '%s\t%s\t%s\t%s\n' "$LABEL" "$1" "$2" "$3" | tee -a "$TSV"; }

wait_quiet
t0=$(date +%s%3N)
setsid node "$ROOT/dist/src/cli/main.js" serve --data-dir "$DATA" --port "$PORT" --admin-password password \
  --hosts "$HOSTS" --log-level info ${BENCH_DATABASE:+--database "$BENCH_DATABASE"} >"$DATA/server.log" 2>&1 &
PID=$!
BASE=http://127.0.0.1:$PORT
BODY='{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"id":"default"},"password":"password"}}},"scope":{"project":{"name":"admin","domain":{"id":"default"}}}}}'
# The banner comes after every start-up step (hosts registered as services, hypervisors and
# resource providers included).
until grep -q "Stackbox is serving" "$DATA/server.log"; do
  kill -0 "$PID" 2>/dev/null || { tail -30 "$DATA/server.log" >&2; exit 1; }
  sleep 0.2
done
row "first start with $HOSTS hosts (until the start-up banner)" "$(( ($(date +%s%3N) - t0) / 1000 ))" s
TOKEN=$(curl -sf -i -X POST "$BASE/identity/v3/auth/tokens" -H 'content-type: application/json' -d "$BODY" | awk 'tolower($1)=="x-subject-token:"{print $2}' | tr -d '\r')
H=(-H "X-Auth-Token: $TOKEN" -H 'content-type: application/json')
nova() { curl -sf -X "$1" "$BASE/compute/v2.1$2" "${H[@]}" -H 'openstack-api-version: compute 2.74' ${3:+-d "$3"}; }
neutron() { curl -sf -X "$1" "$BASE/networking/v2.0$2" "${H[@]}" ${3:+-d "$3"}; }
glance() { curl -sf -X "$1" "$BASE/image/v2$2" "${H[@]}" ${3:+-d "$3"}; }
hypervisors=$(nova GET /os-hypervisors/statistics | jq .hypervisor_statistics.count)
row "hypervisors reported by /os-hypervisors/statistics" "$hypervisors" count

# --- image transfer: 256 MiB, three runs each way
f=$DATA/big.bin; bytes=$((256 * 1048576))
head -c "$bytes" /dev/urandom >"$f"; cat "$f" >/dev/null
up="" down=""
for i in 1 2 3; do
  id=$(glance POST /images "{\"name\":\"bench-big-$i\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}" | jq -r .id)
  wait_quiet
  r=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' -T "$f" -X PUT -H "X-Auth-Token: $TOKEN" -H 'content-type: application/octet-stream' "$BASE/image/v2/images/$id/file")
  [ "${r%% *}" = 204 ] || echo "# image PUT: $r" >&2
  up+=" $(awk -v b="$bytes" -v t="${r##* }" 'BEGIN{printf "%.0f", b/t/1e6}')"
  wait_quiet
  r=$(curl -sS -o /dev/null -w '%{http_code} %{size_download} %{time_total}' -H "X-Auth-Token: $TOKEN" "$BASE/image/v2/images/$id/file")
  set -- $r; [ "$1" = 200 ] && [ "$2" = "$bytes" ] || echo "# image GET: $r" >&2
  down+=" $(awk -v b="$bytes" -v t="$3" 'BEGIN{printf "%.0f", b/t/1e6}')"
  glance DELETE "/images/$id" >/dev/null
done
rm -f "$f"
med() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
row "PUT 256MiB curl -T" "$(echo "$up" | med)" MB/s
row "GET 256MiB curl" "$(echo "$down" | med)" MB/s

# --- what servers boot from and on
head -c 1048576 /dev/urandom >"$DATA/tiny.img"
IMG=$(glance POST /images '{"name":"bench-tiny","disk_format":"raw","container_format":"bare","visibility":"public"}' | jq -r .id)
curl -sf -o /dev/null -X PUT -T "$DATA/tiny.img" -H "X-Auth-Token: $TOKEN" -H 'content-type: application/octet-stream' "$BASE/image/v2/images/$IMG/file"
FLV=$(nova POST /flavors '{"flavor":{"name":"bench.tiny","ram":64,"vcpus":1,"disk":1}}' | jq -r .flavor.id)
NET=$(neutron POST /networks '{"network":{"name":"bench-net"}}' | jq -r .network.id)
neutron POST /subnets "{\"subnet\":{\"network_id\":\"$NET\",\"cidr\":\"10.128.0.0/14\",\"ip_version\":4,\"enable_dhcp\":false}}" >/dev/null
PROJECT=$(neutron GET "/networks/$NET" | jq -r .network.project_id)
neutron PUT "/quotas/$PROJECT" '{"quota":{"port":-1}}' >/dev/null
nova PUT "/os-quota-sets/$PROJECT" '{"quota_set":{"instances":-1,"cores":-1,"ram":-1}}' >/dev/null

# --- 1,000 boots
wait_quiet
node "$ROOT/dist/bench/compute-boot.js" "$LABEL" "$BASE" "$TOKEN" "$FLV" "$IMG" "$NET" "$BOOTS" 16 | tee -a "$TSV"
# The scheduler logs each decision: {"msg":"scheduled","selectMs":…,"scheduleMs":…} (select =
# Placement candidates + filters + weighers; schedule = select + the allocation claim + the
# host written on the instance).
sched_stats() { # label-suffix log
  local f=$DATA/sched.txt n
  for k in selectMs scheduleMs; do
    grep '"msg":"scheduled"' "$2" | sed -E "s/.*\"$k\":([0-9.]+).*/\1/" | sort -n >"$f" || true
    n=$(grep -c . "$f" || true)
    [ "${n:-0}" -gt 0 ] || continue
    row "scheduling at $HOSTS hosts, $k $1: median" "$(awk -v n="$n" 'NR==int((n+1)/2){print}' "$f")" ms
    row "scheduling at $HOSTS hosts, $k $1: p99" "$(awk -v n="$n" 'NR==int(n*0.99+0.999){print}' "$f")" ms
  done
}
sched_stats "(16 clients)" "$DATA/server.log"
# The decision alone, one boot at a time (no queueing behind other builds).
lines=$(wc -l <"$DATA/server.log")
node "$ROOT/dist/bench/compute-boot.js" "$LABEL" "$BASE" "$TOKEN" "$FLV" "$IMG" "$NET" 100 1 >"$DATA/seq.tsv"
tail -n +"$((lines + 1))" "$DATA/server.log" >"$DATA/seq.log"
sched_stats "(1 client)" "$DATA/seq.log"

# --- up to $SERVERS servers, then RSS
more=$((SERVERS - BOOTS - 100))
if [ "$more" -gt 0 ]; then
  node "$ROOT/dist/bench/compute-boot.js" "$LABEL" "$BASE" "$TOKEN" "$FLV" "$IMG" "$NET" "$more" 16 >"$DATA/more.tsv"
  sed -n 2p "$DATA/more.tsv" | tee -a "$TSV" >/dev/null
fi
total=$(nova GET "/servers?limit=1&all_tenants=1" >/dev/null; nova GET /os-hypervisors/statistics | jq .hypervisor_statistics.running_vms)
row "servers running (hypervisor statistics)" "$total" count
row "RSS with $HOSTS hosts and $total servers" "$(awk '/^VmRSS/{print int($2/1024)}' "/proc/$PID/status")" MB

# --- the real Swift's big object, same run
if [ "${BENCH_SWIFT:-1}" = 1 ] && [ -z "${BENCH_DATABASE:-}" ]; then
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  bash "$SHARED/bench/swift-ref.sh" start >"$OUT/swift-ref.log" 2>&1
  bash "$SHARED/bench/objstore-bench.sh" --label swift --skip small,list --big-mib 256 --runs 3 \
    --server-sids "$(bash "$SHARED/bench/swift-ref.sh" sids)" >"$OUT/swift-big.tsv" 2>>"$OUT/swift-ref.log" || true
  bash "$SHARED/bench/swift-ref.sh" stop >>"$OUT/swift-ref.log" 2>&1 || true
  grep -v '^#' "$TSV" | grep '256MiB' >"$OUT/glance-big.tsv"
  bash "$SHARED/bench/ratio.sh" "$OUT/swift-big.tsv" "$OUT/glance-big.tsv" | tee "$OUT/image-vs-swift.txt"
fi
