#!/usr/bin/env bash
# DO=1 against DO=0 answers of a signed zone on the DPDK dataplane over a veth, in one run,
# kxdpgun as the client (target: DO=1 >= 0.8x DO=0). The zone is the N-customer zone
# (tools/gen_bench_zone.py) signed by anamed at load (dnssec: {policy: sign}, one ECDSA
# P-256 CSK); the same query mix is sent with EDNS and DO=0 ("E"), then with DO=1 ("D"):
# positive answers carry their RRSIGs, NODATA and NXDOMAIN their NSEC proofs. The two are
# measured in turn, REPS rounds (each restarts the server); the median per target is kept.
# Usage (root): bench/dnssec_veth.sh [SECONDS=5] [QPS=2000000] [CUSTOMERS=100000]
# Env: BUILD=build, PMD=af_packet|af_xdp, REPS=3.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
REPS=${REPS:-3}
rounds=$REPS
export REPS=1  # veth_lib's gun(): one kxdpgun run per call; the rounds repeat it
. "$here/bench/veth_lib.sh"
need kxdpgun

python3 "$here/tools/gen_bench_zone.py" --customers "$customers" --origin mywebservice.com. \
  --zone-out "$work/zone" --queries-out "$work/queries" >/dev/null
mkdir -p "$work/keys"
"$build/tools/anamed-signzone" keygen mywebservice.com "$work/keys" ecdsap256sha256 csk >/dev/null
sed 's/$/ E/' "$work/queries" >"$work/queries.do0"
sed 's/$/ D/' "$work/queries" >"$work/queries.do1"
setup_veth
zone="zones: [{name: mywebservice.com, file: $work/zone, dnssec: {policy: sign, key-dir: $work/keys}}]"
targets=(do0 do1)
for t in "${targets[@]}"; do : >"$work/all.$t"; done
for r in $(seq "$rounds"); do
  for t in "${targets[@]}"; do
    start_anamed_dpdk "$pmd" "$zone"
    # The zone must be served signed, or there is nothing to measure.
    ip netns exec $S dig +time=2 +tries=1 @127.0.0.1 -p 5399 +dnssec c0000001.mywebservice.com A |
      grep -q "RRSIG" || { echo "the zone is not served signed:" >&2; tail -5 "$work/anamed.log" >&2; exit 1; }
    echo "$(gun "$t" "$work/queries.$t")" >>"$work/all.$t"
    stop_anamed_dpdk
  done
done
median() { sort -n "$work/all.$1" | awk -v n="$rounds" 'NR == int((n + 1) / 2)'; }
echo "answered qps over veth, kxdpgun -Q $qps for ${secs}s, $rounds rounds, one dataplane core ($pmd), $customers customers signed:"
for t in "${targets[@]}"; do
  printf '  %-8s %10s   runs: %s\n' "$t" "$(median "$t")" "$(tr '\n' ' ' <"$work/all.$t")"
done
awk -v a="$(median do0)" -v b="$(median do1)" 'BEGIN {
  if (a > 0) printf "  DO=1 / DO=0: %.2fx   (target >= 0.8x)\n", b / a }'
