# Shared by bench/veth_compare.sh and bench/veth_alias.sh (sourced, not run): one veth pair
# between a server namespace ($S, end $A, 10.53.0.1) and a client namespace ($C, end $B,
# 10.53.0.2), kxdpgun in $C as the load generator, and cleanup of everything started.
# Expects: here; the caller's arguments [SECONDS=5] [QPS=2000000] [CUSTOMERS=100000] and
# BUILD, PMD, REPS (kxdpgun runs per server, default 1) in the environment. Provides: secs,
# qps, customers, build, pmd, reps, run_secs (how long a server is measured for), need, work,
# pids, setup_veth, gun, runs_line, stop_last, start_anamed_dpdk, stop_anamed_dpdk.
[ "$(id -u)" -eq 0 ] || { echo "$(basename "$0"): needs root (namespaces, XDP)" >&2; exit 2; }
secs=${1:-5}
qps=${2:-2000000}
customers=${3:-100000}
build=${BUILD:-$here/build}
pmd=${PMD:-af_packet}
reps=${REPS:-1}
run_secs=$((secs * reps))
# Exits unless every named tool is installed.
need() {
  for t in "$@"; do command -v "$t" >/dev/null || { echo "missing $t (tools/install-deps.sh)" >&2; exit 2; }; done
}

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

setup_veth() {
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
  # One client setup for every server: a static neighbour (testpmd answers no ARP).
  ip -n $C neigh replace 10.53.0.1 lladdr "$mac_a" dev $B nud permanent
}

# NAME QUERY-FILE: $reps kxdpgun runs of $secs s against the server listening now; prints
# the median answered qps and keeps that run's output in $work/gun.NAME, every run's qps in
# $work/runs.NAME.
gun() {
  local r v
  : >"$work/runs.$1"
  for r in $(seq "$reps"); do
    ip netns exec $C taskset -c 0 timeout $((secs + 15)) kxdpgun -t "$secs" -Q "$qps" -i "$2" -I $B 10.53.0.1 \
      >"$work/gun.$1.$r" 2>&1 || true
    v=$(awk '/total replies/ {gsub(/[()]/,"",$0); for (i=1;i<=NF;i++) if ($i=="pps") {print $(i-1); exit}}' "$work/gun.$1.$r")
    echo "${v:-0} $r" >>"$work/runs.$1"
  done
  v=$(sort -n "$work/runs.$1" | awk -v n="$reps" 'NR == int((n + 1) / 2)')
  cp "$work/gun.$1.${v#* }" "$work/gun.$1"
  echo "${v% *}"
}
runs_line() {  # NAME...: "NAME: qps qps qps; ..." in run order
  local g sep=""
  printf '  runs (answered qps, median of %s):' "$reps"
  for g in "$@"; do printf '%s %s %s' "$sep" "$g" "$(cut -d' ' -f1 "$work/runs.$g" | tr '\n' ' ' | sed 's/ $//')"; sep=";"; done
  echo
}
stop_last() {
  local p=${pids[-1]}
  kill -TERM "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  unset 'pids[-1]'
}

# anamed with its DPDK dataplane on $A (PMD af_packet or af_xdp) and a kernel listener on
# 127.0.0.1:5399 inside $S. Args: PMD, then YAML lines for the config (zones, upstreams).
start_anamed_dpdk() {
  local pmd=$1 vdev
  shift
  vdev="net_af_packet0,iface=$A"
  [ "$pmd" = af_xdp ] && vdev="net_af_xdp0,iface=$A"
  {
    printf 'listen: ["127.0.0.1:5399"]\nworkers: 1\n'
    printf '%s\n' "$@"
    cat <<CFG
dpdk:
  eal-args: ["--no-huge", "-m", "1024", "--no-pci", "-l", "0,1", "--file-prefix=anamed-veth-$tag", "--vdev=$vdev"]
  workers: 1
  ports: [{device: ${vdev%%,*}, addresses: ["10.53.0.1/24"], mac: "$mac_a"}]
CFG
  } >"$work/anamed.yaml"
  ip netns exec $S timeout $((run_secs * 4 + 120)) "$build/controlplane/anamed" --config "$work/anamed.yaml" >"$work/anamed.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do grep -q "worker(s) running" "$work/anamed.log" && break; sleep 0.1; done
}
stop_anamed_dpdk() {  # and free the veth for the next server (af_xdp leaves its program attached)
  stop_last
  ip netns exec $S ip link set dev $A xdp off 2>/dev/null || true
}
