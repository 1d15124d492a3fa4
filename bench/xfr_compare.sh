#!/usr/bin/env bash
# Zone transfers, anamed against Knot DNS on this machine, on loopback, in one run:
#  (a) AXFR of the N-customer zone (tools/gen_bench_zone.py) from an anamed primary and from a
#      Knot primary, the two in turn, AXFR_RUNS (5) times each: with kdig (+noall +stats), and
#      with bench/axfr_reader.py, which only counts what arrives (the server's sending time);
#  (b) one change on the anamed primary (anamectl record add) -> served by an anamed
#      secondary and by a Knot secondary (NOTIFY, IXFR), median of ROUNDS; and the same
#      change on the Knot primary -> a Knot secondary of it, the baseline;
#  (c) the anamed secondary applying each of those one-record IXFRs to the live table
#      (its "applied in N us" log line), median.
# It also reports how long the primary's control thread spent on the AXFR (beginning the zone's
# image before the reply, copying it after) and how long the transfer thread took to build the
# messages while they were sent.
#
#   bench/xfr_compare.sh [CUSTOMERS=1000000] [ROUNDS=20]     (BUILD=build by default;
#                                                          KEEP=1 keeps the logs)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
customers=${1:-1000000}
rounds=${2:-20}
build=${BUILD:-$here/build}
for t in knotd kdig python3; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 2; }; done
zone=mywebservice.com
WORK_PREFIX=anamed-xfr-bench
. "$here/bench/loopback_lib.sh"

wait_serial() {  # PORT SERIAL SECONDS
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    [ "$(dig +time=1 +tries=1 @127.0.0.1 -p "$1" $zone SOA +short 2>/dev/null | awk '!/^;/{print $3}')" = "$2" ] && return 0
    sleep 0.2
  done
  echo "the server on port $1 did not reach serial $2 within $3 s" >&2; exit 1
}

echo "generating $customers customers..."
$py "$here/tools/gen_bench_zone.py" --customers "$customers" --origin $zone. \
  --zone-out "$work/zone" --queries-out "$work/queries" --queries 1 >/dev/null
serial=$(awk '$3 == "SOA" {print $6; exit} $4 == "SOA" {print $7; exit}' "$work/zone")
[ -n "$serial" ] || { echo "no SOA serial in the generated zone" >&2; exit 1; }
secret=$(head -c 32 /dev/urandom | base64)
pa=$(free_port); pk=$(free_port); sa=$(free_port); sk=$(free_port); sk2=$(free_port)
echo "ports: anamed primary $pa, knot primary $pk, anamed secondary $sa, knot secondary $sk," \
  "knot secondary of knot $sk2"

# The anamed primary: NOTIFY to both secondaries, transfers to the key.
cat >"$work/anamed.yaml" <<CFG
listen: ["127.0.0.1:$pa"]
workers: 1
journal: $work/primary.mdb
control: {socket: $work/primary.sock}
keys:
  - {name: bench, algorithm: hmac-sha256, secret: "$secret"}
remotes:
  - {name: sec-anamed, address: "127.0.0.1:$sa", key: bench}
  - {name: sec-knot, address: "127.0.0.1:$sk", key: bench}
  - {name: client, address: "127.0.0.1:53", key: bench}
zones:
  - name: $zone
    file: $work/zone
    notify: [sec-anamed, sec-knot]
    allow-transfer: [client]
CFG
"$build/controlplane/anamed" --config "$work/anamed.yaml" 2>"$work/primary.log" &
pids+=($!)
wait_serial "$pa" "$serial" 600

# The Knot primary: the same zone, for (a).
mkdir -p "$work/knotp"
cp "$work/zone" "$work/knotp/$zone.zone"
cat >"$work/knotp.conf" <<CFG
server:
    rundir: "$work/knotp"
    listen: 127.0.0.1@$pk
log:
  - target: stderr
    any: warning
database:
    storage: "$work/knotp"
key:
  - id: bench
    algorithm: hmac-sha256
    secret: $secret
remote:
  - id: knot2
    address: 127.0.0.1@$sk2
    key: bench
acl:
  - id: xfr
    key: bench
    action: transfer
template:
  - id: default
    storage: "$work/knotp"
    semantic-checks: off
    zonefile-sync: -1
zone:
  - domain: $zone
    file: "$work/knotp/$zone.zone"
    acl: xfr
    notify: knot2
CFG
knotd -c "$work/knotp.conf" 2>"$work/knotp.log" &
pids+=($!)
wait_serial "$pk" "$serial" 600

axfr_kdig() {  # PORT -> seconds; checks and keeps the record count
  local t0 t1 out
  t0=$(date +%s.%N)
  # kdig prints a transfer's records even with +noall: both servers' runs pay for that alike.
  out=$(kdig -y "hmac-sha256:bench:$secret" @127.0.0.1 -p "$1" AXFR $zone +noall +stats | tail -n 4)
  t1=$(date +%s.%N)
  grep -q "records" <<<"$out" || { echo "AXFR from port $1 failed: $out" >&2; exit 1; }
  grep -o '[0-9]* records' <<<"$out" | awk '{print $1}' >"$work/axfr-records-$1"
  echo "$t1 - $t0" | bc -l >>"$work/axfr-kdig-$1"
}
axfr_raw() {  # PORT: the server's own sending time (bench/axfr_reader.py)
  $py "$here/bench/axfr_reader.py" --port "$1" --zone $zone --records "$(cat "$work/axfr-records-$1")" \
    --key "bench:hmac-sha256:$secret" | awk '{print $1}' >>"$work/axfr-raw-$1"
}
runs=${AXFR_RUNS:-5}
echo "(a) AXFR of $customers customers, the two servers in turn, median of $runs each:"
for _ in $(seq "$runs"); do for p in $pa $pk; do axfr_kdig "$p"; done; done
for _ in $(seq "$runs"); do for p in $pa $pk; do axfr_raw "$p"; done; done
for how in kdig raw; do
  a=$(median <"$work/axfr-$how-$pa"); k=$(median <"$work/axfr-$how-$pk")
  printf "  %-4s anamed %.2f s   knot %.2f s   anamed/knot %.2f   (anamed %s..%s, knot %s..%s)\n" "$how" \
    "$a" "$k" "$(echo "$a / $k" | bc -l)" "$(sort -n "$work/axfr-$how-$pa" | head -1)" \
    "$(sort -n "$work/axfr-$how-$pa" | tail -1)" "$(sort -n "$work/axfr-$how-$pk" | head -1)" \
    "$(sort -n "$work/axfr-$how-$pk" | tail -1)"
done
echo "  (kdig: the client's own formatting sets the pace; raw: a reader that only counts, so the"
echo "   time is the server's sending; records: anamed $(cat "$work/axfr-records-$pa"), knot $(cat "$work/axfr-records-$pk"))"
grep -o "AXFR of $zone. serial [0-9]* to client.*image of [0-9]* names begun in [0-9]* ms" \
  "$work/primary.log" | tail -1 | sed 's/^/  primary (control thread): /'
grep -o "image of $zone. copied in [0-9]* ms" "$work/primary.log" | awk '{print $(NF-1)}' | median |
  sed 's/^/  primary (control thread), after the reply went: image copied in (median, ms) /'
grep -o "AXFR of $zone. serial [0-9]* to client.*built in [0-9]* ms.*" "$work/primary.log" | tail -1 |
  sed 's/^/  primary: /'

# The secondaries of the anamed primary.
cat >"$work/secondary.yaml" <<CFG
listen: ["127.0.0.1:$sa"]
workers: 1
keys:
  - {name: bench, algorithm: hmac-sha256, secret: "$secret"}
remotes:
  - {name: primary, address: "127.0.0.1:$pa", key: bench}
zones:
  - name: $zone
    primary: [primary]
    file: $work/secondary-copy.zone
CFG
"$build/controlplane/anamed" --config "$work/secondary.yaml" 2>"$work/secondary.log" &
pids+=($!)
knot_secondary() {  # NAME PORT PRIMARY_PORT: a Knot secondary in $work/NAME, logging to NAME.log
  mkdir -p "$work/$1"
  cat >"$work/$1.conf" <<CFG
server:
    rundir: "$work/$1"
    listen: 127.0.0.1@$2
log:
  - target: stderr
    any: info
database:
    storage: "$work/$1"
key:
  - id: bench
    algorithm: hmac-sha256
    secret: $secret
remote:
  - id: primary
    address: 127.0.0.1@$3
    key: bench
acl:
  - id: notify
    address: 127.0.0.1
    key: bench
    action: notify
template:
  - id: default
    storage: "$work/$1"
    semantic-checks: off
    zonefile-sync: -1
zone:
  - domain: $zone
    master: primary
    acl: notify
CFG
  knotd -c "$work/$1.conf" 2>"$work/$1.log" &
  pids+=($!)
}
knot_secondary knots "$sk" "$pa"
knot_secondary knots2 "$sk2" "$pk"
wait_serial "$sa" "$serial" 900
wait_serial "$sk" "$serial" 900
wait_serial "$sk2" "$serial" 900

echo "(b) change on the anamed primary -> served by the secondary (median of $rounds):"
$py "$here/bench/xfr_latency.py" --anamectl "$build/tools/anamectl" --socket "$work/primary.sock" \
  --zone $zone --rounds "$rounds" "anamed->anamed=$sa" "anamed->knot=$sk" | sed 's/^/  /'
echo "  baseline, the same change made on the Knot primary (knotc zone-set, commit):"
$py "$here/bench/xfr_latency.py" --knotc "$(command -v knotc)" --socket "$work/knotp/knot.sock" \
  --zone $zone --rounds "$rounds" "knot->knot=$sk2" | sed 's/^/  /'

echo "(c) the anamed secondary applying a one-record IXFR to the live table (median of $rounds):"
grep -o 'by IXFR ([0-9]* difference(s), [0-9]* bytes), applied in [0-9]* us' "$work/secondary.log" |
  awk '{print $(NF-1)}' | tail -n "$rounds" | median | awk '{printf "  applied in %.0f us\n", $1}'
grep -o 'patched [0-9]* name(s) into snapshot [0-9]* in [0-9]* us' "$work/secondary.log" |
  awk '{print $(NF-1)}' | tail -n "$rounds" | median | awk '{printf "  of which patched into the snapshot in %.0f us\n", $1}'
if grep -q "change needs a full recompile" "$work/secondary.log"; then
  echo "  note: the secondary recompiled for some change:"; grep "change needs a full recompile" "$work/secondary.log" | tail -2
fi
grep -c 'IXFR, incoming.*finished' "$work/knots.log" | sed 's/^/  knot secondary IXFRs: /'
for k in knots knots2; do
  grep -o 'zone updated, [0-9.]* seconds' "$work/$k.log" | awk '{print $3}' | tail -n "$rounds" | median |
    sed "s/^/  $k: knot's own time from its refresh to \"zone updated\" (median, s): /"
done
