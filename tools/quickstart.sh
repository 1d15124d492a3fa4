#!/usr/bin/env bash
# README command 1: install, build, and serve the bundled example (Ctrl-C stops).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
cat <<'TRY'

anamed is starting on 127.0.0.1:5300 and [::1]:5300 with examples/anamed.yaml. In another shell:

  dig @127.0.0.1 -p 5300 customer.mywebservice.com A +norec
  dig @127.0.0.1 -p 5300 customer.mywebservice.com MX +norec
  dig @::1 -p 5300 acme.mywebservice.com ANY +norec +tcp

TRY
exec build/controlplane/anamed --config examples/anamed.yaml
