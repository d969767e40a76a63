#!/usr/bin/env bash
# Runs every test: installs system packages, builds, runs ctest; then builds
# and runs the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
# in a second build directory, and the tests whose code runs threads under
# ThreadSanitizer in a third; last, the fuzz targets' short tier (fourth).
# Usage: scripts/test.sh [--no-setup] [--no-sanitizers] [--no-tsan] [--no-fuzz]
#   --no-sanitizers  skips both sanitizer builds and the fuzzers; --no-tsan
#   the TSan one only; --no-fuzz the fuzzers only.
set -euo pipefail
cd "$(dirname "$0")/.."

setup=1 sanitizers=1 tsan=1 fuzz=1
for arg in "$@"; do
  case "$arg" in
    --no-setup) setup=0 ;;
    --no-sanitizers) sanitizers=0 tsan=0 fuzz=0 ;;
    --no-tsan) tsan=0 ;;
    --no-fuzz) fuzz=0 ;;
    *) echo "usage: $0 [--no-setup] [--no-sanitizers] [--no-tsan] [--no-fuzz]" >&2; exit 2 ;;
  esac
done

# Each tier's wall time, printed as it ends and together at the end, so CI's
# log shows where its minutes go.
tier_start=$SECONDS
tier_times=()
tier_done() {  # NAME
  tier_times+=("$(printf '%-28s %4d s' "$1" $((SECONDS - tier_start)))")
  echo "== $1: $((SECONDS - tier_start)) s"
  tier_start=$SECONDS
}

if [ "$setup" = 1 ]; then bash scripts/setup.sh; tier_done "setup"; fi
jobs=$(nproc)

# The Python module is built for, and its tests run with, Debian's python3:
# the interpreter setup.sh's apt packages (numpy, pytest, torch) went into,
# whichever python3 comes first on PATH (a pyenv shim, say).
python=/usr/bin/python3

build_and_test() {  # DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DPython3_EXECUTABLE="$python" "$@"
  cmake --build "$dir" -j "$jobs"
  # The long kill -9 soak (label soak) runs on request: scripts/soak.sh; the
  # one-node Slurm test (label slurm) too: ctest -L slurm.
  (cd "$dir" && ctest --output-on-failure -j "$jobs" -LE 'soak|slurm')
}

echo "== build and test (build/)"
build_and_test build -DCMAKE_BUILD_TYPE=RelWithDebInfo
tier_done "build and test"

if [ "$sanitizers" = 1 ]; then
  echo "== build and test under ASan+UBSan (build-asan/)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  # tests/lsan.supp: third-party memory held at exit, each with its reason.
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  build_and_test build-asan -DCMAKE_BUILD_TYPE=Debug -DOIV4KV_SANITIZE=ON \
    -DOIV4KV_BUILD_BENCHMARKS=OFF
  tier_done "ASan+UBSan"
fi

# ThreadSanitizer: only the tests of code that runs threads (the Loader's
# workers, TransformDecoder inside them, Scan's prefetch thread, also under a
# sampler, the converter's image pass, deep verify, the synthetic archives'
# encoders),
# and only their targets are built. Measured on this 2-core box while other
# builds ran: building them cold (no ccache) ~5 min (2m10s for the library,
# loader, transform_decoder and scan tests, 3m00s more for verify, synth,
# convert and the CLI convert_test runs); the 107 tests ~1m50s; the whole
# tier with a warm ccache 1m54s.
# Any report fails the run (halt_on_error); tests/tsan.supp holds the
# suppressions, each with its reason.
if [ "$tsan" = 1 ]; then
  echo "== build and test the threaded code under TSan (build-tsan/)"
  tsan_targets=(loader_test transform_decoder_test scan_test sampling_test verify_test synth_test
    convert_test)
  tsan_tests='^(LoaderTest|BadImageLoaderTest|TransformDecoderTest|ScanTest|SamplingTest|Synth|Convert|[A-Za-z]+/ConvertBadInputTest|verify\.)'
  # Reports go to files (log_path), so that those of the `oiv4-kv` processes
  # the tests start with stderr closed are seen too; any file fails the run.
  reports=$PWD/build-tsan/tsan-reports
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp:log_path=$reports/report"
  cmake -S . -B build-tsan -G Ninja -DPython3_EXECUTABLE="$python" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOIV4KV_TSAN=ON -DOIV4KV_BUILD_BENCHMARKS=OFF
  cmake --build build-tsan -j "$jobs" --target "${tsan_targets[@]}"
  rm -rf "$reports" && mkdir -p "$reports"
  tsan_status=0
  (cd build-tsan && ctest --output-on-failure -j "$jobs" -R "$tsan_tests" --no-tests=error) ||
    tsan_status=$?
  if compgen -G "$reports/report.*" > /dev/null; then
    echo "ThreadSanitizer reports (in $reports):"
    cat "$reports"/report.*
    tsan_status=1
  fi
  [ "$tsan_status" = 0 ] || exit "$tsan_status"
  tier_done "TSan"
fi

# Fuzzing, the short tier: scripts/fuzz.sh --short builds the libFuzzer
# targets of tests/fuzz in build-fuzz/ (clang, ASan+UBSan) and runs each for
# 55 s on its committed seeds; any crash, leak or sanitizer report fails
# (the input is kept in build-fuzz/artifacts/<target>/). Measured on this
# 2-core box while other builds ran: building the targets cold 9m16s
# (3m52s the libraries, 5m24s synth, testing and the 10 targets; with a warm
# ccache seconds); running them ~61-62 s a target at 60 s each (start-up,
# seed loading and the final stats included), so the 10 targets at 55 s
# about 9m20s.
if [ "$fuzz" = 1 ]; then
  echo "== fuzz targets, short tier (build-fuzz/)"
  bash scripts/fuzz.sh --short
  tier_done "fuzz, short tier"
fi

echo "== all tests passed; wall time per tier:"
printf '   %s\n' "${tier_times[@]}"
