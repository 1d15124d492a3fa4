#!/usr/bin/env bash
# Side by side on one veth, in one run, one dataplane core each, kxdpgun as the client:
#   1. anamed's DPDK dataplane (net_af_packet or net_af_xdp on the veth)
#   2. Knot DNS in XDP mode on the same veth, same zone and queries
#   3. dpdk-testpmd --forward-mode=5tswap (a null forwarder: the ceiling of the rig)
# Usage (root): bench/veth_compare.sh [SECONDS=5] [QPS=2000000] [CUSTOMERS=100000]
# Env: BUILD=build, PMD=af_packet|af_xdp, REPS=1 (runs per target; the median is reported).
# The servers run on core 1 (DPDK lcore 1; Knot under taskset), kxdpgun on core 0.
# Creates and removes its own namespaces and link;
# every step is bounded by `timeout`. Prints answered qps per target and the ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/veth_lib.sh"
need kxdpgun knotd dpdk-testpmd

python3 "$here/tools/gen_bench_zone.py" --customers "$customers" --origin mywebservice.com. \
  --zone-out "$work/zone" --queries-out "$work/queries" >/dev/null
setup_veth

# 1. anamed
start_anamed_dpdk "$pmd" "zones: [{name: mywebservice.com, file: $work/zone}]"
anamed_qps=$(gun anamed "$work/queries")
stop_anamed_dpdk

# 2. Knot DNS, XDP
ip -n $S addr add 10.53.0.1/24 dev $A
mkdir -p "$work/knot"
cat >"$work/knot.conf" <<CFG
server:
    rundir: "$work/knot"
    listen: 127.0.0.1@5398
    background-workers: 1
xdp:
    listen: $A@53
    udp: on
database:
    storage: "$work/knot"
template:
  - id: default
    storage: "$work"
    semantic-checks: off
zone:
  - domain: mywebservice.com
    file: "$work/zone"
CFG
ip netns exec $S taskset -c 1 timeout $((run_secs * 4 + 120)) knotd -c "$work/knot.conf" >"$work/knot.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do grep -q "loaded, serial\|server started" "$work/knot.log" && break; sleep 0.1; done
sleep 1
knot_qps=$(gun knot "$work/queries")
stop_last
ip netns exec $S ip link set dev $A xdp off 2>/dev/null || true
ip -n $S addr flush dev $A

# 3. testpmd 5tswap
ip netns exec $S timeout $((run_secs + 60)) dpdk-testpmd --no-huge -m 1024 --no-pci -l 0,1 \
  --file-prefix=testpmd-veth-$tag --vdev="net_af_packet0,iface=$A" -- --forward-mode=5tswap --auto-start \
  < <(sleep $((run_secs + 20))) >"$work/testpmd.log" 2>&1 &
pids+=($!)
sleep 3
testpmd_qps=$(gun testpmd "$work/queries")
stop_last

runs_line anamed knot testpmd
echo "answered qps over veth, kxdpgun -Q $qps for ${secs}s (median of $reps), one dataplane core each ($pmd):"
printf '  %-28s %12s\n' "anamed DPDK" "${anamed_qps:-0}" "Knot DNS XDP" "${knot_qps:-0}" "testpmd 5tswap (null fwd)" "${testpmd_qps:-0}"
awk -v a="${anamed_qps:-0}" -v k="${knot_qps:-0}" -v t="${testpmd_qps:-0}" 'BEGIN {
  if (k > 0) printf "  anamed / Knot XDP: %.2fx (target 2x)\n", a / k;
  if (t > 0) printf "  anamed / testpmd:  %.0f%% (target 90%%)\n", 100 * a / t }'
