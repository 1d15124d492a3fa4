#!/usr/bin/env bash
# Side by side on one veth, in one run, one dataplane core each, kxdpgun as the client:
#   1. anamed's DPDK dataplane (net_af_packet or net_af_xdp on the veth)
#   2. Knot DNS in XDP mode on the same veth, same zone and queries
#   3. dpdk-testpmd --forward-mode=5tswap (a null forwarder: the ceiling of the rig)
# Usage (root): bench/veth_compare.sh [SECONDS=5] [QPS=2000000] [CUSTOMERS=100000]
# Env: BUILD=build, PMD=af_packet|af_xdp. Creates and removes its own namespaces and link;
# every step is bounded by `timeout`. Prints answered qps per target and the ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-5}
qps=${2:-2000000}
customers=${3:-100000}
build=${BUILD:-$here/build}
pmd=${PMD:-af_packet}
[ "$(id -u)" -eq 0 ] || { echo "veth_compare.sh: needs root (namespaces, XDP)" >&2; exit 2; }
for t in kxdpgun knotd dpdk-testpmd; do command -v $t >/dev/null || { echo "missing $t (tools/install-deps.sh)" >&2; exit 2; }; done

tag=$$
S=anm-$tag-s C=anm-$tag-c A=anm$tag-a B=anm$tag-b
work=$(mktemp -d /tmp/anamed-veth-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns exec $S ip link set dev $A xdp off 2>/dev/null || true
  ip netns del $S 2>/dev/null || true
  ip netns del $C 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

python3 "$here/tools/gen_bench_zone.py" --customers "$customers" --origin mywebservice.com. \
  --zone-out "$work/zone" --queries-out "$work/queries" >/dev/null

ip netns add $S
ip netns add $C
ip link add $A type veth peer name $B
ip link set $A netns $S
ip link set $B netns $C
ip -n $S link set lo up
ip -n $S link set $A up
ip -n $C link set lo up
ip -n $C addr add 10.53.0.2/24 dev $B
ip -n $C link set $B up
mac_a=$(ip netns exec $S cat /sys/class/net/$A/address)
# One client setup for all three: a static neighbour (testpmd answers no ARP).
ip -n $C neigh replace 10.53.0.1 lladdr "$mac_a" dev $B nud permanent

gun() {  # prints answered qps
  ip netns exec $C timeout $((secs + 15)) kxdpgun -t "$secs" -Q "$qps" -i "$work/queries" -I $B 10.53.0.1 \
    >"$work/gun.$1" 2>&1 || true
  awk '/total replies/ {gsub(/[()]/,"",$0); for (i=1;i<=NF;i++) if ($i=="pps") {print $(i-1); exit}}' "$work/gun.$1"
}
stop_last() {
  local p=${pids[-1]}
  kill -TERM "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  unset 'pids[-1]'
}

# 1. anamed
vdev="net_af_packet0,iface=$A"
[ "$pmd" = af_xdp ] && vdev="net_af_xdp0,iface=$A"
cat >"$work/anamed.yaml" <<CFG
listen: ["127.0.0.1:5399"]
workers: 1
zones: [{name: mywebservice.com, file: $work/zone}]
dpdk:
  eal-args: ["--no-huge", "-m", "1024", "--no-pci", "-l", "0,1", "--file-prefix=anamed-veth-$tag", "--vdev=$vdev"]
  workers: 1
  ports: [{device: ${vdev%%,*}, addresses: ["10.53.0.1/24"], mac: "$mac_a"}]
CFG
ip netns exec $S timeout $((secs * 4 + 120)) "$build/controlplane/anamed" --config "$work/anamed.yaml" >"$work/anamed.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do grep -q "worker(s) running" "$work/anamed.log" && break; sleep 0.1; done
anamed_qps=$(gun anamed)
stop_last
[ "$pmd" = af_xdp ] && ip netns exec $S ip link set dev $A xdp off 2>/dev/null || true

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
ip netns exec $S timeout $((secs * 4 + 120)) knotd -c "$work/knot.conf" >"$work/knot.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do grep -q "loaded, serial\|server started" "$work/knot.log" && break; sleep 0.1; done
sleep 1
knot_qps=$(gun knot)
stop_last
ip netns exec $S ip link set dev $A xdp off 2>/dev/null || true
ip -n $S addr flush dev $A

# 3. testpmd 5tswap
ip netns exec $S timeout $((secs + 60)) dpdk-testpmd --no-huge -m 1024 --no-pci -l 0,1 \
  --file-prefix=testpmd-veth-$tag --vdev="net_af_packet0,iface=$A" -- --forward-mode=5tswap --auto-start \
  < <(sleep $((secs + 20))) >"$work/testpmd.log" 2>&1 &
pids+=($!)
sleep 3
testpmd_qps=$(gun testpmd)
stop_last

echo "answered qps over veth, kxdpgun -Q $qps for ${secs}s, one dataplane core each ($pmd):"
printf '  %-28s %12s\n' "anamed DPDK" "${anamed_qps:-0}" "Knot DNS XDP" "${knot_qps:-0}" "testpmd 5tswap (null fwd)" "${testpmd_qps:-0}"
awk -v a="${anamed_qps:-0}" -v k="${knot_qps:-0}" -v t="${testpmd_qps:-0}" 'BEGIN {
  if (k > 0) printf "  anamed / Knot XDP: %.2fx (target 2x)\n", a / k;
  if (t > 0) printf "  anamed / testpmd:  %.0f%% (target 90%%)\n", 100 * a / t }'
