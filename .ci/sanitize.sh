#!/usr/bin/env bash
# CI: build everything with clang + ASan/UBSan (+ libFuzzer targets), run the unit tests,
# then each fuzzer for FUZZ_SECONDS from a copy of its seed corpus. Non-zero on any
# failure, sanitizer report or fuzzer finding; crash inputs are kept under
# build-asan/fuzz/<target>/ for tests/fuzz/regressions/.
#
# Env: FUZZ_SECONDS (default 60), FUZZ_TARGETS (default: both fuzzers), JOBS (ninja -j,
# default 2), BUILD_DIR (default build-asan), EXTRA_CMAKE_ARGS (word-split, appended).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-2}
BUILD_DIR=${BUILD_DIR:-build-asan}
FUZZ_TARGETS=${FUZZ_TARGETS:-fuzz_respond fuzz_zone_loader}
start=$SECONDS

phase() { printf '\n=== %s (t=%ds)\n' "$*" $((SECONDS - start)); }

for tool in clang clang++ cmake ninja; do
  command -v "$tool" >/dev/null || { echo "sanitize: $tool not found; run tools/install-deps.sh" >&2; exit 1; }
done

phase "configure $BUILD_DIR (clang, ASan+UBSan, libFuzzer)"
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DANAMED_SANITIZE=ON -DANAMED_FUZZ=ON \
  -DANAMED_BUILD_BENCH=OFF -DANAMED_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo ${EXTRA_CMAKE_ARGS:-} >/dev/null

phase "build"
ninja -C "$BUILD_DIR" -j "$JOBS"

# Every sanitizer report is fatal and comes with a stack; leaks count as failures.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Known leaks in third-party libraries only (see the file).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0}

phase "unit tests under ASan/UBSan"
"$BUILD_DIR/tests/unit/unit_tests" --gtest_brief=1

# run_fuzzer <target> <corpus dir> <extra ASAN_OPTIONS> [extra libFuzzer flags...]
failures=0
run_fuzzer() {
  local target=$1 seeds=$2 asan_extra=$3
  shift 3
  local bin="$BUILD_DIR/tests/fuzz/$target" work="$BUILD_DIR/fuzz/$target"
  rm -rf "$work"
  mkdir -p "$work/corpus"
  cp "$seeds"/* "$work/corpus/"  # the fuzzer adds to its corpus: keep the committed seeds clean

  phase "fuzz $target for ${FUZZ_SECONDS}s"
  # Past findings first: each must still pass.
  local regressions="tests/fuzz/regressions/$target"
  if compgen -G "$regressions/*" >/dev/null; then
    if ! TMPDIR="$work" ASAN_OPTIONS="$ASAN_OPTIONS$asan_extra" "$bin" -runs=1 "$regressions"/* \
      >"$work/regressions.log" 2>&1; then
      echo "FAIL $target: a regression input crashes again; see $work/regressions.log"
      tail -n 40 "$work/regressions.log"
      failures=$((failures + 1))
      return
    fi
  fi

  local rc=0
  # TMPDIR: temp files a crashing run could not remove stay in the work dir.
  TMPDIR="$work" ASAN_OPTIONS="$ASAN_OPTIONS$asan_extra" "$bin" -max_total_time="$FUZZ_SECONDS" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" "$@" \
    "$work/corpus" >"$work/fuzz.log" 2>&1 || rc=$?

  local done_line execs rate
  done_line=$(grep -E '^#[0-9]+.*cov:' "$work/fuzz.log" | tail -n 1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$work/fuzz.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: //p' "$work/fuzz.log")
  if [ "$rc" -eq 0 ]; then
    echo "PASS $target: ${execs:-?} runs, ${rate:-?} exec/s; ${done_line#* }"
  else
    echo "FAIL $target (exit $rc): ${execs:-?} runs, ${rate:-?} exec/s; ${done_line#* }"
    grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|check failed' \
      "$work/fuzz.log" || true
    tail -n 60 "$work/fuzz.log"
    ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null || true
    failures=$((failures + 1))
  fi
}

for target in $FUZZ_TARGETS; do
  case $target in
    fuzz_respond) run_fuzzer fuzz_respond tests/fuzz/corpus/respond "" ;;
    # ldns is built without frame pointers: only the slow unwinder sees past its frames,
    # so only then can lsan.supp match the ldns leak. Costs ~3x exec/s; a short context
    # keeps it there (reproduce a leak with malloc_context_size=30 to see anamed's frames).
    fuzz_zone_loader)
      run_fuzzer fuzz_zone_loader tests/fuzz/corpus/zone \
        ":fast_unwind_on_malloc=0:malloc_context_size=6" -dict=tests/fuzz/zone.dict ;;
    *) echo "sanitize: unknown fuzz target '$target'" >&2; exit 2 ;;
  esac
done

phase "done"
if [ "$failures" -ne 0 ]; then
  echo "sanitize: $failures fuzzer(s) failed" >&2
  exit 1
fi
echo "sanitize: unit tests and fuzzers clean under ASan/UBSan in $((SECONDS - start))s"
