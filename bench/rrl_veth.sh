#!/usr/bin/env bash
# Response rate limiting on but not limiting, against off, on the DPDK dataplane over a veth,
# in one run, kxdpgun as the client (target: RRL on >= 0.9x RRL off):
#   1. anamed, no `rrl:` section
#   2. anamed, `rrl: {rate-limit: 1000000, table: per-worker}`
#   3. anamed, `rrl: {rate-limit: 1000000, table: shared}`
# The rate is one no bucket reaches, so every response goes through the table (classify,
# key, bucket line, tokens) and none is dropped: what is measured is the table's cost.
# The three are measured in turn, REPS rounds of them (each round restarts each server), so
# that a change in the machine's load meets all three alike; the median per target is kept.
# Usage (root): bench/rrl_veth.sh [SECONDS=5] [QPS=2000000] [CUSTOMERS=100000]
# Env: BUILD=build, PMD=af_packet|af_xdp, REPS=3.
# The dataplane runs on core 1 (DPDK lcore 1), kxdpgun on core 0. Creates and removes its
# own namespaces and veth; every step is bounded by `timeout`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
REPS=${REPS:-3}
rounds=$REPS
export REPS=1  # veth_lib's gun(): one kxdpgun run per call; the rounds repeat it
. "$here/bench/veth_lib.sh"
need kxdpgun

python3 "$here/tools/gen_bench_zone.py" --customers "$customers" --origin mywebservice.com. \
  --zone-out "$work/zone" --queries-out "$work/queries" >/dev/null
setup_veth
zone="zones: [{name: mywebservice.com, file: $work/zone}]"
declare -A rrl=(
  [off]=""
  [per_worker]="rrl: {rate-limit: 1000000, table: per-worker}"
  [shared]="rrl: {rate-limit: 1000000, table: shared}"
)
targets=(off per_worker shared)
for t in "${targets[@]}"; do : >"$work/all.$t"; done
for r in $(seq "$rounds"); do
  for t in "${targets[@]}"; do
    start_anamed_dpdk "$pmd" "$zone" "${rrl[$t]}"
    v=$(gun "$t" "$work/queries")
    echo "$v" >>"$work/all.$t"
    # A run that limited would have dropped answers: the dataplane counts them.
    grep -h "rrl: rate limiting" "$work/anamed.log" && echo "  ($t limited: see above)" >&2
    stop_anamed_dpdk
  done
done
median() { sort -n "$work/all.$1" | awk -v n="$rounds" 'NR == int((n + 1) / 2)'; }
echo "answered qps over veth, kxdpgun -Q $qps for ${secs}s, $rounds rounds, one dataplane core ($pmd):"
for t in "${targets[@]}"; do
  printf '  %-26s %10s   runs: %s\n' "rrl $t" "$(median "$t")" "$(tr '\n' ' ' <"$work/all.$t")"
done
awk -v o="$(median off)" -v p="$(median per_worker)" -v s="$(median shared)" 'BEGIN {
  if (o > 0) printf "  per-worker / off: %.2fx   shared / off: %.2fx   (target >= 0.9x)\n", p / o, s / o }'
