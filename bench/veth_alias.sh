#!/usr/bin/env bash
# ALIAS answers at line rate: the same ALIAS zone served over one veth, kxdpgun as the client,
#   1. by anamed's DPDK dataplane (flattened addresses from its precompiled table), and
#   2. by PowerDNS with expand-alias (kernel sockets, the way PowerDNS serves; its packet
#      cache on, which is its fastest setting),
# both resolving the targets at a local Knot in the server namespace. bench/compare's row 2
# measures the same with dnsperf over loopback, where dnsperf is the limit.
# Usage (root): bench/veth_alias.sh [SECONDS=5] [QPS=2000000] [CUSTOMERS=100000]
# Env: BUILD=build, PMD=af_packet|af_xdp, REPS=1 (runs per server; the median is reported).
# The servers run on core 1 (DPDK lcore 1; PowerDNS under taskset), kxdpgun and the upstream
# Knot on core 0. Prints answered qps per server and the ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/veth_lib.sh"
need kxdpgun knotd pdns_server dig
. "$here/bench/pdns_conf.sh"

targets=16
python3 "$here/tools/gen_bench_zone.py" --customers "$customers" --alias-targets $targets \
  --zone-out "$work/alias.zone" --queries-out "$work/unused" 2>/dev/null
python3 - "$customers" "$work/queries" <<'PY'
import random, sys
n, path = int(sys.argv[1]), sys.argv[2]
r = random.Random(2)
with open(path, "w") as f:
    f.writelines("c%07d.mywebservice.com %s\n" % (r.randint(1, n), "A" if r.random() < 0.7 else "AAAA")
                 for _ in range(100000))
PY
{
  printf '$ORIGIN offsite.example.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.53\n'
  for i in $(seq 0 $((targets - 1))); do printf 'lb%d A 203.0.113.%d\nlb%d AAAA 2001:db8:ff::%x\n' $i $((i + 1)) $i $((i + 1)); done
} >"$work/offsite.zone"
setup_veth

# The targets' upstream: Knot on the server namespace's loopback, for both servers.
mkdir -p "$work/knot"
cat >"$work/knot.conf" <<CFG
server:
    rundir: "$work/knot"
    listen: 127.0.0.1@5397
    background-workers: 1
database:
    storage: "$work/knot"
template:
  - id: default
    storage: "$work"
zone:
  - domain: offsite.example
    file: "$work/offsite.zone"
CFG
ip netns exec $S taskset -c 0 timeout $((run_secs * 4 + 240)) knotd -c "$work/knot.conf" >"$work/knot.log" 2>&1 &
pids+=($!)
upstream=$!
wait_a() {  # PORT: until c0000001 answers with a flattened address
  for _ in $(seq 300); do
    ip netns exec $S dig +short +time=1 +tries=1 @127.0.0.1 -p "$1" c0000001.mywebservice.com A 2>/dev/null |
      grep -q '^203\.0\.113\.' && return 0
    sleep 0.2
  done
  echo "no flattened answer on port $1" >&2
  return 1
}

# 1. anamed
start_anamed_dpdk "$pmd" "zones: [{name: mywebservice.com, file: $work/alias.zone}]" 'upstreams: ["127.0.0.1:5397"]'
wait_a 5399
anamed_qps=$(gun anamed "$work/queries")
stop_anamed_dpdk

# 2. PowerDNS on the veth address
ip -n $S addr add 10.53.0.1/24 dev $A
pdns_conf "$work/pdns" "$work/alias.zone" 10.53.0.1,127.0.0.1 53 127.0.0.1:5397
ip netns exec $S taskset -c 1 timeout $((run_secs * 4 + 120)) pdns_server --config-dir="$work/pdns" >"$work/pdns.log" 2>&1 &
pids+=($!)
wait_a 53
pdns_qps=$(gun pdns "$work/queries")
stop_last
kill -TERM "$upstream" 2>/dev/null || true

for g in anamed pdns; do echo "kxdpgun against $g:"; sed -n "/total/,\$p" "$work/gun.$g" | sed "s/^/    /"; done
runs_line anamed pdns
echo "ALIAS answers over veth, kxdpgun -Q $qps for ${secs}s (median of $reps), $customers customers on $targets targets ($pmd):"
printf '  %-28s %12s\n' "anamed DPDK" "${anamed_qps:-0}" "PowerDNS expand-alias" "${pdns_qps:-0}"
awk -v a="${anamed_qps:-0}" -v p="${pdns_qps:-0}" 'BEGIN {
  if (p > 0) printf "  anamed / PowerDNS: %.2fx (target 10x)\n", a / p }'
