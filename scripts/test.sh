#!/usr/bin/env bash
# Runs every test: installs system packages, builds, runs ctest; then builds
# and runs the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
# in a second build directory.
# Usage: scripts/test.sh [--no-setup] [--no-sanitizers]
set -euo pipefail
cd "$(dirname "$0")/.."

setup=1 sanitizers=1
for arg in "$@"; do
  case "$arg" in
    --no-setup) setup=0 ;;
    --no-sanitizers) sanitizers=0 ;;
    *) echo "usage: $0 [--no-setup] [--no-sanitizers]" >&2; exit 2 ;;
  esac
done

[ "$setup" = 1 ] && bash scripts/setup.sh
jobs=$(nproc)

# The Python module is built for, and its tests run with, Debian's python3:
# the interpreter setup.sh's apt packages (numpy, pytest, torch) went into,
# whichever python3 comes first on PATH (a pyenv shim, say).
python=/usr/bin/python3

build_and_test() {  # DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DPython3_EXECUTABLE="$python" "$@"
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure -j "$jobs")
}

echo "== build and test (build/)"
build_and_test build -DCMAKE_BUILD_TYPE=RelWithDebInfo

if [ "$sanitizers" = 1 ]; then
  echo "== build and test under ASan+UBSan (build-asan/)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  build_and_test build-asan -DCMAKE_BUILD_TYPE=Debug -DOIV4KV_SANITIZE=ON \
    -DOIV4KV_BUILD_BENCHMARKS=OFF
fi
