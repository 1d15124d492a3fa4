#!/usr/bin/env bash
# Installs everything anamed builds, tests and benchmarks with, from Debian 12 packages only.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev python3
  libldns-dev ldnsutils libtbb-dev libyaml-cpp-dev nlohmann-json3-dev liblmdb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  dnsutils iproute2
  knot knot-dnsutils nsd bind9 python3-dnspython libssl-dev
  libdpdk-dev dpdk dpdk-dev dnsperf iputils-ping tcpdump ethtool
  libmicrohttpd-dev libsystemd-dev scdoc groff-base prometheus dpkg-dev file
  bind9-dnsutils bind9-utils lego pebble openssl unbound
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
