#!/usr/bin/env bash
# Regenerates the committed seed corpora of the fuzz targets,
# tests/fuzz/corpus/<target>/, from the project's generators
# (tests/fuzz/fuzz_seeds.cc says which). Builds fuzz_seeds in build-fuzz/
# (configured by scripts/fuzz.sh; run that first) and replaces the folder.
# The generators are deterministic: an unchanged generator gives the same
# files.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build-fuzz/build.ninja ] || { echo "fuzz_seeds: run scripts/fuzz.sh first (it configures build-fuzz/)" >&2; exit 1; }
cmake --build build-fuzz --target fuzz_seeds
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
rm -rf tests/fuzz/corpus
build-fuzz/tests/fuzz/fuzz_seeds tests/fuzz/corpus
find tests/fuzz/corpus -type f | wc -l | xargs echo "fuzz_seeds: files written:"
du -sh tests/fuzz/corpus
