#!/bin/sh
# anamed-signzone's output checked by ldns-verify-zone (ldnsutils), with anamed's own keys
# and with keys from BIND's dnssec-keygen, NSEC and NSEC3 (opt-out too). A damaged signed
# zone must fail the same check, and `anamed-signzone ds` must print what dnssec-dsfromkey does.
# usage: dnssec_verify_zone.sh ANAMED-SIGNZONE ZONE-FILE (the zone is example.test)
set -eu
signzone=$1
zonefile=$2
zone=example.test
dir=$(mktemp -d "${TMPDIR:-/tmp}/anamed-dnssec-XXXXXX")
trap 'rm -rf "$dir"' EXIT

check() {  # KEY-DIR NAME [sign options...]
    keys=$1 name=$2
    shift 2
    "$signzone" sign $zone "$zonefile" "$dir/$name.signed" "$keys" "$@"
    if ! ldns-verify-zone -V 1 "$dir/$name.signed"; then
        echo "FAIL: ldns-verify-zone refused $name"
        exit 1
    fi
    echo "ok: $name"
}

mkdir "$dir/own" "$dir/bind-ed" "$dir/bind-rsa"
"$signzone" keygen $zone "$dir/own" ecdsap256sha256 csk >/dev/null
check "$dir/own" own-nsec
check "$dir/own" own-nsec3 --nsec3
check "$dir/own" own-nsec3-optout --nsec3 --opt-out

(cd "$dir/bind-ed" && dnssec-keygen -q -a ED25519 -f KSK $zone >/dev/null &&
    dnssec-keygen -q -a ED25519 $zone >/dev/null)
check "$dir/bind-ed" bind-ed25519
(cd "$dir/bind-rsa" && dnssec-keygen -q -a RSASHA256 -b 2048 -f KSK $zone >/dev/null &&
    dnssec-keygen -q -a RSASHA256 -b 2048 $zone >/dev/null)
check "$dir/bind-rsa" bind-rsasha256-nsec3 --nsec3

# The check can fail: a zone missing one NSEC record, or with one changed address.
awk '/\tNSEC\t/ && !done { done = 1; next } { print }' "$dir/own-nsec.signed" >"$dir/broken1"
if ldns-verify-zone "$dir/broken1" >/dev/null 2>&1; then
    echo "FAIL: ldns-verify-zone accepted a zone without one NSEC"
    exit 1
fi
sed 's/192\.0\.2\.10$/192.0.2.11/' "$dir/own-nsec.signed" >"$dir/broken2"
cmp -s "$dir/own-nsec.signed" "$dir/broken2" && { echo "FAIL: nothing changed"; exit 1; }
if ldns-verify-zone "$dir/broken2" >/dev/null 2>&1; then
    echo "FAIL: ldns-verify-zone accepted a changed address"
    exit 1
fi
echo "ok: damaged zones refused"

# DS for the parent, as BIND computes it.
ours=$("$signzone" ds $zone "$dir/bind-ed" | sed 's/.* IN DS //')
ksk=$(grep -l 'DNSKEY 257' "$dir"/bind-ed/*.key)
theirs=$(dnssec-dsfromkey -2 "$ksk" | sed 's/.* IN DS //')
if [ "$ours" != "$theirs" ]; then
    echo "FAIL: DS '$ours' != dnssec-dsfromkey's '$theirs'"
    exit 1
fi
echo "ok: DS"
