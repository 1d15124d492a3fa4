#!/usr/bin/env bash
# An ALIAS target with N owners in a signed zone changes its addresses: how long until every
# owner's signed answer is live. The zone (N names "cNNNNNNN ALIAS lb.offsite.", plus MX and
# TXT each) is signed by anamed (dnssec: {policy: sign}, one ECDSA P-256 CSK); the target is
# resolved from tests/integration/fake_upstream.py. After the first answers serve, the
# target's A changes ROUNDS times. Each round reports the time from the resolver's new answer
# to the last owner's new signed answer being visible (anamed's "published ... signed owner
# answers made in" line: all owners are signed first, then published), and checks one owner
# with dig +dnssec.
#   bench/dnssec_alias_publish.sh [OWNERS=100000] [ROUNDS=5]   (BUILD=build; KEEP=1 keeps logs)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
owners=${1:-100000}
rounds=${2:-5}
build=${BUILD:-$here/build}
zone=al.bench
WORK_PREFIX=anamed-alias-sign-bench
. "$here/bench/loopback_lib.sh"
control() {  # the target's A; written atomically (fake_upstream re-reads it on every query)
  printf '{"mode": "normal", "records": {"lb.offsite.": {"a": ["%s"], "aaaa": ["2001:db8::10"], "ttl": 1}}}' "$1" \
    >"$work/up/control.json.new"
  mv "$work/up/control.json.new" "$work/up/control.json"
}

{
  printf '$ORIGIN %s.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\nmx A 192.0.2.25\n' $zone
  awk -v n="$owners" 'BEGIN { for (i = 1; i <= n; i++) {
    printf "c%07d ALIAS lb.offsite.\nc%07d MX 10 mx\nc%07d TXT \"customer %d\"\n", i, i, i, i } }'
} >"$work/zone"
mkdir -p "$work/up" "$work/keys"
control 203.0.113.1
$py "$here/tests/integration/fake_upstream.py" --dir "$work/up" 2>"$work/up.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/up/port" ] && break; sleep 0.1; done
"$build/tools/anamed-signzone" keygen $zone "$work/keys" ecdsap256sha256 csk >/dev/null
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/anamed.yaml" <<CFG
listen: ["127.0.0.1:$port"]
workers: 1
upstreams: ["127.0.0.1:$(cat "$work/up/port")"]
alias: {refresh-min-s: 1, refresh-max-s: 1}
zones:
  - name: $zone
    file: $work/zone
    dnssec: {policy: sign, key-dir: $work/keys}
CFG
"$build/controlplane/anamed" --config "$work/anamed.yaml" 2>"$work/anamed.log" &
pids+=($!)
answer() {  # NAME -> "ADDRESS RRSIG-count"
  dig +time=1 +tries=1 +dnssec +norec @127.0.0.1 -p "$port" "$1" A +noall +answer 2>/dev/null |
    awk '$4 == "A" {a = $5} $4 == "RRSIG" {s++} END {print a, s + 0}'
}
last=$(printf 'c%07d.%s.' "$owners" $zone)
for _ in $(seq 1800); do [ "$(answer "$last")" = "203.0.113.1 1" ] && break; sleep 0.2; done
[ "$(answer "$last")" = "203.0.113.1 1" ] || { echo "the owners never served signed answers" >&2; tail -5 "$work/anamed.log" >&2; exit 1; }
grep -o "signed whole: .* ms" "$work/anamed.log" | tail -1 | sed 's/^/zone /'
echo "an ALIAS target with $owners owners in a signed zone changes its A ($rounds rounds):"
for r in $(seq "$rounds"); do
  addr=203.0.113.$((r + 1))
  before=$(grep -c "signed owner answers made" "$work/anamed.log" || true)
  control "$addr"
  for _ in $(seq 600); do
    [ "$(grep -c "signed owner answers made" "$work/anamed.log" || true)" -gt "$before" ] &&
      [ "$(answer "$last")" = "$addr 1" ] && break
    sleep 0.05
  done
  line=$(grep "signed owner answers made" "$work/anamed.log" | tail -1)
  [ "$(answer "$last")" = "$addr 1" ] || { echo "round $r: $last does not answer $addr signed" >&2; exit 1; }
  echo "$line" | sed -E 's/.*published ([0-9]+) ALIAS change\(s\) in ([0-9]+) us \(([0-9]+) of ([0-9]+) signed owner answers made in ([0-9]+) us\).*/\2 \3 \4 \5/' |
    awk -v r="$r" '{printf "  round %d: all %d owners live %.3f s after the new answer (signing %.3f s)\n", r, $3, $1 / 1e6, $4 / 1e6}'
done
