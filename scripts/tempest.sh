#!/usr/bin/env bash
# scripts/tempest.sh — run Debian's Tempest tests against a fresh Stackbox and fail when fewer
# pass than the floor kept in .ci/tempest-floor (one "NAME COUNT" per line), or when any fails.
#   scripts/tempest.sh [default|scope|strict|network]
#     default: identity tests, Stackbox's default policy settings (as Keystone 22: no scope enforcement)
#     scope:   identity tests, --enforce-scope (tempest told [enforce_scope] keystone=true, admin system-scoped)
#     strict:  identity tests, --enforce-scope --enforce-new-defaults (deprecated defaults no longer ORed in)
#     network: tempest.api.network (extensions, public network discovered from the cloud)
#     image:   tempest.api.image (v2)
#     object:  tempest.api.object_storage (Swift)
#     compute: tempest.api.compute on 4 simulated hosts, with network, image and placement
#              (flavors from the cloud, a tiny image created by the harness)
# Stackbox runs with the security-compliance settings tempest is told about (lockout 2/5 s,
# 2 unique passwords), so those tests run too.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${1:-default}
SHARED=${SHARED_TOOLS:-$ROOT/../shared/tools}
RUN=$SHARED/tempest/run.sh
[ -x /usr/bin/tempest ] || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q tempest python3-openstackclient; }
[ -r "$RUN" ] || { echo "tempest.sh: $RUN not found (shared tools missing)" >&2; exit 2; }
[ -f dist/src/cli/main.js ] || npx tsc -p .

PORT=${TEMPEST_PORT:-5090}
DATA=$(mktemp -d)
OUT=${TEMPEST_OUTPUT:-$ROOT/tempest-results-$MODE}
rm -rf "$OUT"
FLAGS=()
SCOPE=false
SERVICE=identity
EXTRA=()
CONC_DEFAULT=2
case "$MODE" in
  default) ;;
  # Tempest's network clients sleep (10 s after each subnet delete): more workers, same CPU.
  network) SERVICE=network; EXTRA=(--regex '^tempest\.api\.network\.' --extra-conf "$ROOT/.ci/tempest-network.conf"); CONC_DEFAULT=4 ;;
  # Two file stores (multi-store tests), web-download allowed to fetch from the cloud itself (no
  # internet here), and a second API process on the same state as image_remote (cross-worker tests).
  image) SERVICE=image; FLAGS+=(--config "$DATA/stackbox.yaml")
    printf 'image:\n  stores: [local, fast]\n  webDownloadAllowedPorts: [80, 443, %s]\n' "$PORT" >"$DATA/stackbox.yaml"
    printf '[image]\nhttp_image = http://127.0.0.1:%s/image/versions\nalternate_image_endpoint = image_remote\n' "$PORT" >"$DATA/tempest-image-port.conf"
    EXTRA=(--services identity,image --regex '^tempest\.api\.image\.' --extra-conf "$ROOT/.ci/tempest-image.conf" --extra-conf "$DATA/tempest-image-port.conf")
    CONC_DEFAULT=4 ;;
  compute) SERVICE=compute; FLAGS+=(--hosts 4)
    EXTRA=(--services compute,network,image,placement --regex '^tempest\.api\.compute\.' --create-resources --extra-conf "$ROOT/.ci/tempest-compute.conf")
    CONC_DEFAULT=4 ;;
  volume) SERVICE=volume; FLAGS+=(--hosts 4)
    EXTRA=(--services volume,compute,network,image,placement --regex '^tempest\.api\.volume\.' --create-resources --extra-conf "$ROOT/.ci/tempest-volume.conf")
    CONC_DEFAULT=4 ;;
  # Swift: /info is read by Tempest (discoverability); the flags file lists what /info advertises.
  object) SERVICE=object-storage
    EXTRA=(--regex '^tempest\.api\.object_storage\.' --create-resources --extra-conf "$ROOT/.ci/tempest-object.conf")
    CONC_DEFAULT=4 ;;
  scope) FLAGS+=(--enforce-scope); SCOPE=true ;;
  strict) FLAGS+=(--enforce-scope --enforce-new-defaults); SCOPE=true ;;
  *) echo "tempest.sh: mode must be default, scope, strict, network, image, compute, volume or object" >&2; exit 2 ;;
esac
STACKBOX_BCRYPT_ROUNDS=4 STACKBOX_LOCKOUT_FAILURE_ATTEMPTS=2 STACKBOX_LOCKOUT_DURATION=5 \
STACKBOX_UNIQUE_LAST_PASSWORD_COUNT=2 \
  node dist/src/cli/main.js serve --data-dir "$DATA" --port "$PORT" --admin-password password \
  --log-level warn "${FLAGS[@]}" >"$DATA/server.log" 2>&1 &
PID=$!
PID2=""
trap 'kill $PID $PID2 2>/dev/null; rm -rf "$DATA"' EXIT
AUTH=http://127.0.0.1:$PORT/identity/v3
for _ in $(seq 1 100); do curl -sf -o /dev/null "$AUTH" && break; sleep 0.1; done
if [ "$MODE" = compute ] || [ "$MODE" = volume ]; then
  # Two distinct tiny images (Tempest's image_ref and image_ref_alt: rebuilds and the image filters).
  OSENV=(OS_AUTH_URL="$AUTH" OS_USERNAME=admin OS_PASSWORD=password OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3)
  for n in 1 2; do
    head -c 1048576 /dev/urandom >"$DATA/tiny-$n.img"
    env "${OSENV[@]}" openstack image create --public --disk-format raw --container-format bare --file "$DATA/tiny-$n.img" "tempest-tiny-$n" >/dev/null
  done
  IMAGE_REF=$(env "${OSENV[@]}" openstack image show tempest-tiny-1 -f value -c id)
  IMAGE_REF_ALT=$(env "${OSENV[@]}" openstack image show tempest-tiny-2 -f value -c id)
  export IMAGE_REF IMAGE_REF_ALT
fi
if [ "$MODE" = image ]; then
  # The second process keeps the catalog on the first (its bootstrap would point it at itself).
  PORT2=$((PORT + 1))
  STACKBOX_PUBLIC_URL=http://127.0.0.1:$PORT STACKBOX_BCRYPT_ROUNDS=4 \
    node dist/src/cli/main.js serve --data-dir "$DATA" --port "$PORT2" --log-level warn "${FLAGS[@]}" >"$DATA/server2.log" 2>&1 &
  PID2=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT2/image/versions" && break; sleep 0.1; done
  OSENV=(OS_AUTH_URL="$AUTH" OS_USERNAME=admin OS_PASSWORD=password OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3)
  env "${OSENV[@]}" openstack service create --name glance_remote image_remote >/dev/null
  env "${OSENV[@]}" openstack endpoint create --region RegionOne image_remote public "http://127.0.0.1:$PORT2/image" >/dev/null
fi

t0=$(date +%s)
SECURITY_COMPLIANCE=true LOCKOUT_ATTEMPTS=2 LOCKOUT_DURATION=5 UNIQUE_LAST_PASSWORD_COUNT=2 \
ENFORCE_SCOPE=$SCOPE CONCURRENCY=${TEMPEST_CONCURRENCY:-$CONC_DEFAULT} \
  bash "$RUN" --auth-url "$AUTH" --services "$SERVICE" "${EXTRA[@]}" --output "$OUT" >"$DATA/tempest.out" 2>&1
rc=$?
echo "tempest $SERVICE ($MODE): $(( $(date +%s) - t0 )) s, run.sh exit $rc"
cp "$DATA"/server*.log "$OUT/" 2>/dev/null
cat "$OUT/summary.txt" 2>/dev/null || tail -20 "$DATA/tempest.out"
if grep -q . "$OUT/failing-tests.txt" 2>/dev/null; then echo "failing:"; sed 's/^/  /' "$OUT/failing-tests.txt"; fi
[ $rc -eq 0 ] || { echo "tempest.sh: the harness failed (exit $rc)"; tail -20 "$DATA/tempest.out"; tail -20 "$DATA/server.log"; exit 1; }
passed=$(sed -n "s/^$SERVICE: passed=\([0-9]*\).*/\1/p" "$OUT/summary.txt" 2>/dev/null | head -1)
passed=${passed:-0}
failed=$(sed -n "s/^$SERVICE: .*failed=\([0-9]*\).*/\1/p" "$OUT/summary.txt" 2>/dev/null | head -1)
floor=$(awk -v m="$MODE" '$1==m{print $2}' .ci/tempest-floor 2>/dev/null)
floor=${floor:-0}
echo "tempest $SERVICE ($MODE): $passed passed, ${failed:-?} failed; floor $floor"
[ "$passed" -ge "$floor" ] || { echo "tempest.sh: passed count $passed is below the floor $floor"; exit 1; }
if [ "$SERVICE" != identity ] && [ "${failed:-1}" != 0 ]; then echo "tempest.sh: $SERVICE tests must not fail"; exit 1; fi
