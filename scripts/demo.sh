#!/usr/bin/env bash
# The main job on a built-in sample: installs packages, builds, synthesizes a
# small download in the official layout, converts it into one store with all
# three configs, reads it back, and runs the benchmarks.
# Usage: scripts/demo.sh [WORK_DIR] (default: /tmp/oiv4kv-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/oiv4kv-demo}
images=${OIV4KV_DEMO_IMAGES:-1000}

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$(nproc)"
bin=build/tools/oiv4-kv

rm -rf "$work"
mkdir -p "$work"
echo "== synthesize a download of $images images (official layout, awkward inputs included)"
$bin synth "$work/download" --images "$images" --seed 1

echo "== convert: original, 300k, 200k into one store (TFDS label ids, bad inputs skipped)"
for config in original 300k 200k; do
  /usr/bin/time -f "   $config: %e s, peak RSS %M KiB" \
    $bin convert --source "$work/download" --store "$work/store" --config "$config" \
      --label-lists "$work/download/tfds_lists" --on-error skip
done

echo "== info"
$bin info "$work/store"
echo "== the first validation example"
$bin dump "$work/store" --split validation --limit 1
echo "== export the validation images of 200k"
$bin export "$work/store" --config 200k --split validation --out "$work/export-200k"

echo "== benchmarks"
build/bench/transcode_bench --benchmark_min_time=0.5
