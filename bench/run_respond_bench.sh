#!/usr/bin/env bash
# Google Benchmark of respond() on an N-customer zone (default 1,000,000) with the
# generator's mixed query set. Usage: bench/run_respond_bench.sh [CUSTOMERS] [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
customers=${1:-1000000}
build=${2:-$here/build}
work=${BENCH_DIR:-/tmp/anamed-bench}
mkdir -p "$work"
zone=$work/customers-$customers.zone
queries=$work/customers-$customers.queries
if [ ! -s "$zone" ]; then
  python3 "$here/tools/gen_bench_zone.py" --customers "$customers" --origin mywebservice.com. \
    --zone-out "$zone" --queries-out "$queries"
fi
cmake --build "$build" --target respond_bench >/dev/null
"$build/bench/respond_bench" --zone "$zone" --origin mywebservice.com. --queries "$queries" \
  --benchmark_min_time=2 --benchmark_out="$work/respond_bench.json" --benchmark_out_format=json
echo "JSON: $work/respond_bench.json"
