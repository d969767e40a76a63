#!/usr/bin/env bash
# Runs the read benchmarks end to end: makes the benchmark stores once with
# `oiv4-kv synth` + `convert`, runs read_bench, layout_bench and loader_bench
# (the C++ Loader against the decode limit; medians
# of 9 repetitions, run interleaved; JSON) and bench/dataloader_bench.py
# (PyTorch DataLoaders; medians of 5), bench/augment_bench.py (augmented
# batches: the native Loader against torchvision pipelines), and writes bench/REPORT.md and
# bench/report.png.
#
#   bench/run.sh                 # full run: ~17 min (first time: ~7 min more to make data)
#   bench/run.sh --quick         # small data, 1 repetition: checks it all works
#
# Data (under $OIV4KV_BENCH_DIR, default /tmp/oiv4kv-bench; ~12 GB at most
# while the downloads exist, ~4 GB after):
#   annotations: 1,000,000 examples (900k train; tiny `original` images), for
#                annotation Gets, MultiGet and processes (~1 GB of records);
#   images:      20,000 examples in the 300k config (~0.9 GB of JPEGs), for
#                image Gets, scans, decode and the Loader.
# All of it fits in the page cache of the 24 GiB machine the figures are for.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
dir=${OIV4KV_BENCH_DIR:-/tmp/oiv4kv-bench}
annotation_images=1000000
image_images=20000
repetitions=9
loader_examples=1500 loader_reps=5
loader_batches=8  # loader_bench: batches of 256 per repetition
if [ "${1:-}" = "--quick" ]; then
  dir=${OIV4KV_BENCH_DIR:-/tmp/oiv4kv-bench-quick}
  annotation_images=20000
  image_images=1000
  repetitions=1
  loader_examples=200 loader_reps=1
  loader_batches=3
fi
cli=$build/tools/oiv4-kv
mkdir -p "$dir"

# make_store NAME IMAGES CONFIG [synth options]: synth + convert unless a
# store made with the same parameters is there.
make_store() {
  local name=$1 images=$2 config=$3
  shift 3
  local stamp="$images $config $*"
  if [ -f "$dir/$name.done" ] && [ "$(cat "$dir/$name.done")" = "$stamp" ]; then return; fi
  echo "bench: making the $name store ($images images, $config)"
  rm -rf "$dir/$name" "$dir/$name-download" "$dir/baselines"
  "$cli" synth "$dir/$name-download" --images "$images" --no-awkward --archives tar "$@"
  "$cli" convert --source "$dir/$name-download" --store "$dir/$name" --config "$config"
  rm -rf "$dir/$name-download"
  echo "$stamp" > "$dir/$name.done"
}
make_store annotations "$annotation_images" original --max-side 48
make_store images "$image_images" 300k

# Repetitions of all benchmarks run in random order, so that a noisy spell on
# this shared machine hits the systems being compared alike.
common=(--ann_store="$dir/annotations" --img_store="$dir/images" --work_dir="$dir/baselines"
        --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true
        --benchmark_enable_random_interleaving=true --benchmark_min_time=0.2
        --benchmark_out_format=json)
"$build/bench/read_bench" "${common[@]}" --benchmark_out="$dir/read.json"
"$build/bench/layout_bench" "${common[@]}" --benchmark_out="$dir/layout.json"
# Queries on the label index against full scans (issue 15).
"$build/bench/query_bench" "${common[@]}" --benchmark_out="$dir/query.json"
"$build/bench/loader_bench" "${common[@]}" --loader_batches="$loader_batches" \
  --benchmark_out="$dir/loader.json"
# PyTorch DataLoaders over the images store (Debian's python3, for torch).
PYTHONPATH="$build/python" /usr/bin/python3 bench/dataloader_bench.py --store "$dir/images" \
  --work "$dir/dataloader" --examples "$loader_examples" --reps "$loader_reps" \
  --out "$dir/dataloader.json"
# Augmented batches (RandomResizedCrop 224 + flip, batches of 256): the native
# Loader against torchvision pipelines in DataLoader workers. Its table and
# ratios are printed here and rendered by bench/report (Augment/...).
aug_examples=$(( loader_examples > 512 ? loader_examples : 512 ))
PYTHONPATH="$build/python" /usr/bin/python3 bench/augment_bench.py --store "$dir/images" \
  --work "$dir/augment" --examples "$aug_examples" --reps "$loader_reps" \
  --out "$dir/augment.json" | tee "$dir/augment.md"

machine="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), \
$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(. /etc/os-release && echo "$PRETTY_NAME")"
out=()
if [ "${1:-}" = "--quick" ]; then out=(--out-md "$dir/REPORT.md" --out-png "$dir/report.png"); fi
bench/report "${out[@]}" --machine "$machine" "$dir/read.json" "$dir/layout.json" \
  "$dir/loader.json" "$dir/dataloader.json" "$dir/augment.json"
