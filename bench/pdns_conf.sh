# Sourced by bench/compare and bench/veth_alias.sh: PowerDNS serving one zone from the bind
# backend with ALIAS expansion, one receiver thread, in the foreground, nothing on disk but DIR.
pdns_conf() {  # DIR ZONE-FILE LOCAL-ADDRESSES PORT RESOLVER
  mkdir -p "$1"
  cat >"$1/named.conf" <<CFG
options { directory "$1"; };
zone "mywebservice.com" { type master; file "$2"; };
CFG
  cat >"$1/pdns.conf" <<CFG
launch=bind
bind-config=$1/named.conf
local-address=$3
local-port=$4
expand-alias=yes
resolver=$5
receiver-threads=1
distributor-threads=1
socket-dir=$1
guardian=no
daemon=no
disable-syslog=yes
write-pid=no
loglevel=4
webserver=no
api=no
CFG
}
