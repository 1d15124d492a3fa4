#!/usr/bin/env bash
# Dynamic updates, anamed against Knot DNS on this machine, one after the other on loopback:
# acknowledged durable updates per second (every reply after the journal's fsync that covers
# it; W updates in flight) and update -> answer visible on the primary.
#
#   bench/update_compare.sh [COUNT=5000] [WINDOW=32]     (BUILD=build by default)
#
# Both servers get the same zone, one UDP worker pinned to core 1, the load generator core 0.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-5000}
window=${2:-32}
build=${BUILD:-$here/build}
for t in knotd python3; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 2; }; done
WORK_PREFIX=anamed-update-bench
. "$here/bench/loopback_lib.sh"

secret=$(head -c 32 /dev/urandom | base64)
key="bench:hmac-sha256:$secret"
cat >"$work/zone" <<'ZONE'
$ORIGIN mywebservice.com.
$TTL 300
@   SOA ns1 hostmaster 1 7200 3600 1209600 300
@   NS  ns1
ns1 A   192.0.2.1
ZONE
wait_port() {  # PORT
  for _ in $(seq 100); do
    dig +time=1 +tries=1 @127.0.0.1 -p "$1" mywebservice.com SOA +short 2>/dev/null | grep -qv '^;' && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2; exit 1
}

# anamed
pa=$(free_port)
cat >"$work/anamed.yaml" <<CFG
listen: ["127.0.0.1:$pa"]
workers: 1
journal: $work/anamed.mdb
keys:
  - {name: bench, algorithm: hmac-sha256, secret: "$secret"}
zones:
  - name: mywebservice.com
    file: $work/zone
    update-policy:
      - {key: bench, types: [A]}
CFG
taskset -c 1 "$build/controlplane/anamed" --config "$work/anamed.yaml" 2>"$work/anamed.log" &
pids+=($!)
wait_port "$pa"
echo "anamed:"
taskset -c 0 $py "$here/bench/update_load.py" --port "$pa" --key "$key" --count "$count" \
  --window "$window" | tee "$work/anamed.out"
kill -TERM "${pids[0]}"; wait "${pids[0]}" || true

# Knot DNS: its journal (LMDB) on by default, robust mode (synced before the reply)
pk=$(free_port)
mkdir -p "$work/knot"
cp "$work/zone" "$work/knot/mywebservice.com.zone"
cat >"$work/knot.conf" <<CFG
server:
    rundir: "$work/knot"
    listen: 127.0.0.1@$pk
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "$work/knot"
    journal-db-mode: robust
key:
  - id: bench
    algorithm: hmac-sha256
    secret: $secret
acl:
  - id: update
    key: bench
    action: update
template:
  - id: default
    storage: "$work/knot"
    semantic-checks: off
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: mywebservice.com
    file: "$work/knot/mywebservice.com.zone"
    acl: update
CFG
taskset -c 1 knotd -c "$work/knot.conf" 2>"$work/knot.log" &
pids+=($!)
wait_port "$pk"
echo "knot $(knotd -V | awk '{print $NF}'):"
taskset -c 0 $py "$here/bench/update_load.py" --port "$pk" --key "$key" --count "$count" \
  --window "$window" | tee "$work/knot.out"
