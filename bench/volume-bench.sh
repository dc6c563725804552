#!/usr/bin/env bash
# volume-bench.sh OUTDIR — Stackbox block storage (Cinder v3 on the simulated backends, state and
# disks on this machine's disk), printing TSV rows (label, metric, value, unit) to OUTDIR/volume.tsv:
#   create $VOLUMES 1 GiB volumes with 16 concurrent clients until all available, volumes/s
#   attach/detach cycles through Nova with 16 clients (each its own server and volume), cycles/s
#   a 1 GiB volume from a 1 GiB random image, its backup (chunks into the blob store, sha256 per
#     chunk) and its restore into a new volume: MB/s
#   reference, same run and disk: a 1 GiB file copied with dd (conv=fsync), MB/s — the bytes a
#     backup or restore moves, without any API
# Env: BENCH_VOLUMES (200) BENCH_CYCLES (10 per client) BENCH_PORT (5082)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=${1:?usage: volume-bench.sh OUTDIR}
mkdir -p "$OUT"
SHARED=${SHARED_TOOLS:-$ROOT/../shared/tools}
. "$SHARED/bench/lib.sh"
VOLUMES=${BENCH_VOLUMES:-200} CYCLES=${BENCH_CYCLES:-10}
PORT=${BENCH_PORT:-5082}
TSV=$OUT/volume.tsv
: >"$TSV"
DATA=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT
row() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" | tee -a "$TSV"; }

wait_quiet
setsid node "$ROOT/dist/src/cli/main.js" serve --data-dir "$DATA" --port "$PORT" --admin-password password \
  --hosts 16 --log-level warn >"$DATA/server.log" 2>&1 &
PID=$!
BASE=http://127.0.0.1:$PORT
BODY='{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"id":"default"},"password":"password"}}},"scope":{"project":{"name":"admin","domain":{"id":"default"}}}}}'
until grep -q "Stackbox is serving" "$DATA/server.log"; do
  kill -0 "$PID" 2>/dev/null || { tail -30 "$DATA/server.log" >&2; exit 1; }
  sleep 0.2
done
RESP=$(curl -sf -i -X POST "$BASE/identity/v3/auth/tokens" -H 'content-type: application/json' -d "$BODY")
TOKEN=$(printf '%s' "$RESP" | awk 'tolower($1)=="x-subject-token:"{print $2}' | tr -d '\r')
PROJECT=$(printf '%s' "$RESP" | sed -n '/^{/p' | jq -r .token.project.id)
H=(-H "X-Auth-Token: $TOKEN" -H 'content-type: application/json')
nova() { curl -sf -X "$1" "$BASE/compute/v2.1$2" "${H[@]}" ${3:+-d "$3"}; }
neutron() { curl -sf -X "$1" "$BASE/networking/v2.0$2" "${H[@]}" ${3:+-d "$3"}; }
glance() { curl -sf -X "$1" "$BASE/image/v2$2" "${H[@]}" ${3:+-d "$3"}; }
cinder() { curl -sf -X "$1" "$BASE/volume/v3/$PROJECT$2" "${H[@]}" ${3:+-d "$3"}; }

head -c 1048576 /dev/urandom >"$DATA/tiny.img"
IMG=$(glance POST /images '{"name":"bench-tiny","disk_format":"raw","container_format":"bare","visibility":"public"}' | jq -r .id)
curl -sf -o /dev/null -X PUT -T "$DATA/tiny.img" -H "X-Auth-Token: $TOKEN" -H 'content-type: application/octet-stream' "$BASE/image/v2/images/$IMG/file"
head -c 1073741824 /dev/urandom >"$DATA/big.img"
BIG=$(glance POST /images '{"name":"bench-1g","disk_format":"raw","container_format":"bare"}' | jq -r .id)
curl -sf -o /dev/null -X PUT -T "$DATA/big.img" -H "X-Auth-Token: $TOKEN" -H 'content-type: application/octet-stream' "$BASE/image/v2/images/$BIG/file"
FLV=$(nova POST /flavors '{"flavor":{"name":"bench.tiny","ram":64,"vcpus":1,"disk":1}}' | jq -r .flavor.id)
NET=$(neutron POST /networks '{"network":{"name":"bench-net"}}' | jq -r .network.id)
neutron POST /subnets "{\"subnet\":{\"network_id\":\"$NET\",\"cidr\":\"10.64.0.0/16\",\"ip_version\":4}}" >/dev/null
cinder PUT "/os-quota-sets/$PROJECT" '{"quota_set":{"volumes":-1,"gigabytes":-1,"backups":-1,"backup_gigabytes":-1,"snapshots":-1}}' >/dev/null
nova PUT "/os-quota-sets/$PROJECT" '{"quota_set":{"instances":-1,"cores":-1,"ram":-1}}' >/dev/null

wait_quiet
node "$ROOT/dist/bench/volume-ops.js" stackbox "$BASE" "$TOKEN" "$PROJECT" "$FLV" "$IMG" "$NET" "$BIG" "$VOLUMES" 16 "$CYCLES" | tee -a "$TSV"
row stackbox "RSS after the volume benchmark" "$(awk '/^VmRSS/{print int($2/1024)}' "/proc/$PID/status")" MB

# Reference: the same 1 GiB through the same disk with dd, fsynced.
wait_quiet
t0=$(date +%s%N)
dd if="$DATA/big.img" of="$DATA/copy.img" bs=4M conv=fsync status=none
t=$(( $(date +%s%N) - t0 ))
row dd "copy of 1 GiB (bs=4M, conv=fsync) on the same disk" "$(awk -v t="$t" 'BEGIN{printf "%.0f", 1073.741824/(t/1e9)}')" MB/s
