#!/usr/bin/env bash
# Many small zones, anamed beside Knot DNS in the same run on the same machine: the SaaS
# case where every customer's own domain is a zone.
# Usage: bench/many_zones.sh [ZONES=100000] [RECORDS=10]
# Env: BUILD=build (anamed at $BUILD/controlplane/anamed), PORT=15353.
# For each server: the time from its start until the last zone answers its SOA, and its
# resident memory (VmRSS) then, on a plain UDP listener with one worker. Prints one line per
# server and the ratios. Works in its own temporary directory, removed at the end; every
# wait is bounded.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
zones=${1:-100000}
records=${2:-10}
build=${BUILD:-$here/build}
port=${PORT:-15353}
anamed=$build/controlplane/anamed
for t in "$anamed" knotd dig; do
  command -v "$t" >/dev/null || { echo "many_zones: $t not found" >&2; exit 1; }
done
work=$(mktemp -d /tmp/anamed-many-zones.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Zones c0.example ... c<N-1>.example: SOA, NS and RECORDS-2 more (A, AAAA, MX, TXT).
python3 - "$work" "$zones" "$records" <<'PY'
import os, sys
work, n, records = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.mkdir(os.path.join(work, "z"))
extra = ["www IN A 192.0.2.1", "www IN AAAA 2001:db8::1", "@ IN MX 10 mail",
         "mail IN A 192.0.2.2", '@ IN TXT "v=spf1 mx -all"', "api IN A 192.0.2.3",
         "cdn IN CNAME www", "ftp IN A 192.0.2.4"]
with open(os.path.join(work, "anamed.yaml"), "w") as a, open(os.path.join(work, "knot.zones"), "w") as k:
    a.write("listen: [127.0.0.1:%s]\nworkers: 1\nzones:\n" % os.environ.get("PORT", "15353"))
    for i in range(n):
        name = "c%d.example" % i
        path = os.path.join(work, "z", name + ".zone")
        body = ["$ORIGIN %s." % name, "$TTL 3600",
                "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300", "@ IN NS ns1"]
        body += [extra[j] if j < len(extra) else "h%d IN A 192.0.2.%d" % (j, j % 250 + 1)
                 for j in range(max(0, records - 2))]
        with open(path, "w") as f:
            f.write("\n".join(body) + "\n")
        a.write("  - {name: %s, file: %s}\n" % (name, path))
        k.write("  - domain: %s\n    file: %s\n" % (name, path))
PY
last="c$((zones - 1)).example"

# Seconds from $1 (date +%s.%N) until the last zone's SOA answers; RSS of $pid in KiB.
wait_last() {
  local t0=$1 deadline=$((SECONDS + 1800))
  until dig @127.0.0.1 -p "$port" +norec +short +time=1 +tries=1 "$last" SOA 2>/dev/null |
      grep -q '^[^;]'; do
    kill -0 "$pid" 2>/dev/null || { echo "many_zones: server exited" >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { echo "many_zones: no answer in 30 min" >&2; exit 1; }
    sleep 0.2
  done
  python3 -c "import time,sys; print('%.1f' % (time.time() - float(sys.argv[1])))" "$t0"
}
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }

t0=$(date +%s.%N)
"$anamed" --config "$work/anamed.yaml" >"$work/anamed.log" 2>&1 &
pid=$!
anamed_s=$(wait_last "$t0")
anamed_kib=$(rss)
kill "$pid"; wait "$pid" || true; pid=

mkdir -p "$work/knot"
cat >"$work/knot.conf" <<CFG
server:
    rundir: "$work/knot"
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 1
database:
    storage: "$work/knot"
template:
  - id: default
    journal-content: none
    zonefile-sync: -1
    semantic-checks: off
zone:
CFG
cat "$work/knot.zones" >>"$work/knot.conf"
t0=$(date +%s.%N)
knotd -c "$work/knot.conf" >"$work/knot.log" 2>&1 &
pid=$!
knot_s=$(wait_last "$t0")
knot_kib=$(rss)
kill "$pid"; wait "$pid" || true; pid=

echo "zones $zones x $records records"
printf '%-8s load %7s s   RSS %8s KiB\n' anamed "$anamed_s" "$anamed_kib" knot "$knot_s" "$knot_kib"
python3 -c "import sys; a,k,ra,rk = map(float, sys.argv[1:]); print('anamed/knot: load %.2f, RSS %.2f' % (a/k, ra/rk))" \
  "$anamed_s" "$knot_s" "$anamed_kib" "$knot_kib"
