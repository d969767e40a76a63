#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (tests/fuzz/README.md) in
# build-fuzz/ with clang, ASan+UBSan (-fno-sanitize-recover=all), and runs
# each for a fixed time on a working copy of its seed corpus
# (build-fuzz/corpus/<target>/, seeded from tests/fuzz/corpus/<target>/, so
# the committed seeds only change on purpose). Prints, and writes to
# build-fuzz/fuzz-summary.txt, one line per target: its outcome and
# libFuzzer's final figures (runs, cov, ft, corpus, exec/s, peak RSS).
# A crash, leak, sanitizer report, timeout (-timeout 25 s an input) or
# memory blow-up (-rss_limit_mb 2560) saves the input in
# build-fuzz/artifacts/<target>/ and makes the script exit 1 after the
# other targets ran; reproduce with build-fuzz/tests/fuzz/<target> <file>.
#
# Usage: scripts/fuzz.sh [--short | --long | --seconds N] [--no-build] [target...]
#   --short       55 s per target: the CI tier (scripts/test.sh), 10 targets
#                 in about 9.5 minutes plus the build
#   --long        15 minutes per target (the long tier; 2.5 hours)
#   --seconds N   N seconds per target (default: 55, as --short)
#   target...     only these (e.g. csv_reader_fuzz); default: all of them
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=55 build=1 targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) seconds=55 ;;
    --long) seconds=900 ;;
    --seconds) seconds=$2; shift ;;
    --no-build) build=0 ;;
    -*) echo "usage: $0 [--short | --long | --seconds N] [--no-build] [target...]" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done

dir=build-fuzz
if [ "$build" = 1 ]; then
  cxx=$(command -v clang++ || command -v clang++-14 || true)
  cc=$(command -v clang || command -v clang-14 || true)
  if [ -z "$cxx" ]; then
    echo "fuzz: clang++ not found (scripts/setup.sh installs clang-14 and libfuzzer-14-dev)" >&2
    exit 1
  fi
  mkdir -p "$dir"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" -DOIV4KV_FUZZ=ON \
    -DOIV4KV_BUILD_TESTS=OFF -DOIV4KV_BUILD_BENCHMARKS=OFF -DOIV4KV_BUILD_PYTHON=OFF \
    -DOIV4KV_BUILD_TOOLS=OFF > "$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; exit 1; }
  cmake --build "$dir" --target fuzz
fi
if [ ${#targets[@]} -eq 0 ]; then
  for src in tests/fuzz/*_fuzz.cc; do targets+=("$(basename "$src" .cc)"); done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ -x /usr/bin/llvm-symbolizer-14 ]; then
  export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/bin/llvm-symbolizer-14}
fi

summary=$dir/fuzz-summary.txt
mkdir -p "$dir/logs"
printf '%-24s %-7s %10s %7s %7s %7s %8s %8s\n' target result runs cov ft corpus exec/s rss_mb \
  > "$summary"
failed=0
for t in "${targets[@]}"; do
  bin=$dir/tests/fuzz/$t
  [ -x "$bin" ] || { echo "fuzz: no $bin" >&2; exit 1; }
  work=$dir/corpus/$t
  mkdir -p "$work" "$dir/artifacts/$t"
  log=$dir/logs/$t.log
  echo "== $t: $seconds s"
  seeds=()
  [ -d "tests/fuzz/corpus/$t" ] && seeds=("tests/fuzz/corpus/$t")
  status=0
  "$bin" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/$t/" "$work" "${seeds[@]}" > "$log" 2>&1 ||
    status=$?
  # libFuzzer's last status line, "#N<TAB>DONE cov: C ft: F corp: U/S ...",
  # and its final stats (-print_final_stats).
  last=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -1 || true)
  field() { sed -nE "s#.* $1: ([0-9]+).*#\1#p" <<< "$last"; }
  stat() { sed -nE "s#^stat::$1:[[:space:]]*([0-9]+).*#\1#p" "$log" | tail -1; }
  runs=$(stat number_of_executed_units)
  corp=$(sed -nE 's#.* corp: ([0-9]+)/.*#\1#p' <<< "$last")
  result=ok
  if [ "$status" != 0 ]; then result=FAILED failed=1; fi
  printf '%-24s %-7s %10s %7s %7s %7s %8s %8s\n' "$t" "$result" "${runs:-?}" \
    "$(field cov)" "$(field ft)" "${corp:-?}" "$(stat average_exec_per_sec)" \
    "$(stat peak_rss_mb)" >> "$summary"
  if [ "$status" != 0 ]; then
    echo "fuzz: $t failed (exit $status); its log ends:"
    tail -40 "$log"
  fi
done
echo "== fuzz summary ($seconds s per target; logs in $dir/logs/)"
cat "$summary"
exit "$failed"
