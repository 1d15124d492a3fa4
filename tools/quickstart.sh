#!/usr/bin/env bash
# README command 1: install, build, and serve the bundled example (Ctrl-C stops).
# As root with DPDK: the DPDK dataplane on a net_tap port (host interface anamed0) as well
# as the kernel listener on 127.0.0.1:5300. Otherwise: the kernel listener only.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
bin=build/controlplane/anamed

if [ "$(id -u)" -ne 0 ] || ! pkg-config --exists libdpdk; then
  echo "(not root or no DPDK: starting the kernel listener only; run as root for the DPDK dataplane)"
  cat <<'TRY'

anamed is starting on 127.0.0.1:5300 and [::1]:5300 with examples/anamed.yaml. In another shell:

  dig @127.0.0.1 -p 5300 customer.mywebservice.com A +norec
  dig @127.0.0.1 -p 5300 customer.mywebservice.com MX +norec
  dig @::1 -p 5300 acme.mywebservice.com ANY +norec +tcp

TRY
  exec "$bin" --config examples/anamed.yaml
fi

"$bin" --config examples/anamed-dpdk.yaml &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
for _ in $(seq 100); do
  ip link show anamed0 >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { wait $pid; exit 1; }
  sleep 0.1
done
# The host side of the virtual wire; 10.53.0.1 / fd53::1 are answered by the dataplane
# (ARP and ND included).
ip addr replace 10.53.0.2/24 dev anamed0
ip addr replace fd53::2/64 dev anamed0 nodad
ip link set anamed0 up
cat <<'TRY'

anamed is serving examples/anamed-dpdk.yaml. In another shell:

  # DPDK dataplane (net_tap port, host interface anamed0):
  dig @10.53.0.1 customer.mywebservice.com A +norec
  dig @fd53::1 customer.mywebservice.com AAAA +norec
  ping -c 2 10.53.0.1
  # kernel listener (UDP and TCP):
  dig @127.0.0.1 -p 5300 customer.mywebservice.com MX +norec
  dig @::1 -p 5300 acme.mywebservice.com ANY +norec +tcp
  # counters: echo /anamed/stats | dpdk-telemetry.py -f anamed-quickstart

TRY
wait $pid
