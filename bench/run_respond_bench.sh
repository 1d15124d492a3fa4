#!/usr/bin/env bash
# Google Benchmark of respond() on an N-customer zone (default 1,000,000) with the
# generator's mixed query set. Usage: bench/run_respond_bench.sh [CUSTOMERS] [BUILD_DIR]
# The zone, the queries and respond_bench.json go to $BENCH_DIR (default BUILD_DIR/bench-data),
# where the next run reuses the zone.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
customers=${1:-1000000}
build=${2:-$here/build}
work=${BENCH_DIR:-$build/bench-data}
mkdir -p "$work"
zone=$work/customers-$customers.zone
queries=$work/customers-$customers.queries
if [ ! -s "$zone" ]; then
  python3 "$here/tools/gen_bench_zone.py" --customers "$customers" --origin mywebservice.com. \
    --zone-out "$zone" --queries-out "$queries"
fi
cmake -S "$here" -B "$build" $([ -f "$build/CMakeCache.txt" ] || echo -G Ninja) -DANAMED_BUILD_BENCH=ON >/dev/null
cmake --build "$build" --target respond_bench >/dev/null
"$build/bench/respond_bench" --zone "$zone" --origin mywebservice.com. --queries "$queries" \
  --benchmark_min_time=2 --benchmark_out="$work/respond_bench.json" --benchmark_out_format=json
echo "JSON: $work/respond_bench.json"
