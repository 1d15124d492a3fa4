#!/usr/bin/env bash
# Signing the N-customer zone (tools/gen_bench_zone.py), anamed against Knot DNS on this
# machine, in one run: each loads the zone file and signs it at load (anamed: dnssec:
# {policy: sign}; Knot: dnssec-signing: on), one ECDSA P-256 CSK, NSEC, both cores. Reports
# the wall time from start until the SOA is served with its RRSIG, the resident memory then
# (VmRSS, the signed zone served), and anamed's own "signed whole in N ms" line.
#   bench/dnssec_compare.sh [CUSTOMERS=1000000]     (BUILD=build by default; KEEP=1 keeps logs)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
customers=${1:-1000000}
build=${BUILD:-$here/build}
for t in knotd kdig dig python3; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 2; }; done
zone=mywebservice.com
WORK_PREFIX=anamed-dnssec-bench
. "$here/bench/loopback_lib.sh"
# PORT PID SECONDS: waits until the SOA comes with an RRSIG; prints the seconds since $t0.
wait_signed() {
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    kill -0 "$2" 2>/dev/null || { echo "the server on port $1 exited" >&2; exit 1; }
    if dig +time=1 +tries=1 +dnssec +norec @127.0.0.1 -p "$1" $zone SOA 2>/dev/null | grep -q "RRSIG"; then
      echo "$(date +%s.%N) - $t0" | bc -l
      return 0
    fi
    sleep 0.2
  done
  echo "the server on port $1 was not serving the zone signed within $3 s" >&2; exit 1
}
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

echo "generating $customers customers..."
python3 "$here/tools/gen_bench_zone.py" --customers "$customers" --origin $zone. \
  --zone-out "$work/zone" --queries-out "$work/queries" --queries 1 >/dev/null

# anamed
pa=$(free_port)
mkdir -p "$work/keys"
"$build/tools/anamed-signzone" keygen $zone "$work/keys" ecdsap256sha256 csk >/dev/null
cat >"$work/anamed.yaml" <<CFG
listen: ["127.0.0.1:$pa"]
workers: 1
zones:
  - name: $zone
    file: $work/zone
    dnssec: {policy: sign, key-dir: $work/keys}
CFG
t0=$(date +%s.%N)
"$build/controlplane/anamed" --config "$work/anamed.yaml" 2>"$work/anamed.log" &
pids+=($!)
a_s=$(wait_signed "$pa" "${pids[-1]}" 1800)
a_rss=$(rss_mib "${pids[-1]}")
a_sign=$(grep -o "signed whole: .* ms" "$work/anamed.log" | tail -1)
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'

# Knot
pk=$(free_port)
mkdir -p "$work/knot"
cp "$work/zone" "$work/knot/$zone.zone"
cat >"$work/knot.conf" <<CFG
server:
    rundir: "$work/knot"
    listen: 127.0.0.1@$pk
log:
  - target: stderr
    any: info
database:
    storage: "$work/knot"
policy:
  - id: csk
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: off
template:
  - id: default
    storage: "$work/knot"
    semantic-checks: off
    zonefile-sync: -1
    journal-content: none
    dnssec-signing: on
    dnssec-policy: csk
zone:
  - domain: $zone
    file: "$work/knot/$zone.zone"
CFG
t0=$(date +%s.%N)
knotd -c "$work/knot.conf" 2>"$work/knot.log" &
pids+=($!)
k_s=$(wait_signed "$pk" "${pids[-1]}" 3600)
k_rss=$(rss_mib "${pids[-1]}")
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'

echo "signing $customers customers at load (ECDSA P-256 CSK, NSEC, $(nproc) cores):"
printf "  start -> served signed: anamed %.1f s   knot %.1f s   anamed/knot %.2f\n" "$a_s" "$k_s" "$(echo "$a_s / $k_s" | bc -l)"
printf "  memory (VmRSS):         anamed %s MiB   knot %s MiB   anamed/knot %.2f\n" "$a_rss" "$k_rss" "$(echo "$a_rss / $k_rss" | bc -l)"
echo "  anamed: $a_sign"
