#!/usr/bin/env bash
# The main job on a built-in sample: installs packages, builds, synthesizes a
# download in the official layout, converts it into one store with all three
# configs, reads it back (info, get, verify, export, the Python module and a
# PyTorch DataLoader), measures reads on it (bench), and in the full run
# benchmarks transcoding against OpenCV.
#
# Usage: scripts/demo.sh [--quick] [WORK_DIR]   (default WORK_DIR: /tmp/oiv4kv-demo)
#   full:    1,000 images up to 1024 px, bench --seconds 10, transcode_bench
#            (about a minute on 2 cores once built)
#   --quick: 200 images up to 256 px, bench --seconds 2, no transcode_bench
#            (seconds once built; what CI runs)
# OIV4KV_DEMO_IMAGES overrides the image count of either mode.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0 work=""
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "usage: $0 [--quick] [WORK_DIR]" >&2; exit 2 ;;
    *)
      if [ -n "$work" ]; then echo "usage: $0 [--quick] [WORK_DIR]" >&2; exit 2; fi
      work=$arg ;;
  esac
done
work=${work:-/tmp/oiv4kv-demo}
if [ "$quick" = 1 ]; then
  images=${OIV4KV_DEMO_IMAGES:-200} max_side=256 bench_seconds=2 steps=10
else
  images=${OIV4KV_DEMO_IMAGES:-1000} max_side=1024 bench_seconds=10 steps=11
fi

step=0 demo_start=$SECONDS step_start=$SECONDS
header() {  # TITLE: a numbered header, with the time the previous step took
  if [ "$step" -gt 0 ]; then echo "   ($((SECONDS - step_start)) s)"; fi
  step=$((step + 1)) step_start=$SECONDS
  echo
  echo "==== [$step/$steps] $*"
}

header "setup: system packages"
bash scripts/setup.sh

header "build (build/, RelWithDebInfo)"
# Debian's python3: the interpreter setup.sh installs numpy and torch into
# (as in scripts/test.sh), whatever python3 comes first on PATH.
python=/usr/bin/python3
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython3_EXECUTABLE="$python"
cmake --build build -j "$(nproc)"
bin=build/tools/oiv4-kv
store=$work/store

rm -rf "$work"
mkdir -p "$work"
header "synth: a download of $images images up to $max_side px (official layout, awkward inputs included)"
$bin synth "$work/download" --images "$images" --max-side "$max_side" --seed 1

header "convert: original, 300k, 200k into one store (TFDS label ids, bad inputs skipped)"
for config in original 300k 200k; do
  /usr/bin/time -f "   $config: %e s, peak RSS %M KiB" \
    $bin convert --source "$work/download" --store "$store" --config "$config" \
      --label-lists "$work/download/tfds_lists" --on-error skip
done

header "info: what the store holds and how it was made"
$bin info "$store"

header "get: the first validation example"
$bin get "$store" --split validation --index 0

header "verify: read back and check every record and image"
$bin verify "$store"

header "export: the validation images of 200k to files"
$bin export "$store" --config 200k --split validation --out "$work/export-200k"

header "python: the store through oiv4kv and a PyTorch DataLoader (2 workers)"
PYTHONPATH=build/python "$python" - "$store" <<'PY'
import sys, time, torch
import oiv4kv, oiv4kv.torch as ot
store = oiv4kv.Store(sys.argv[1])
train = store.split("train")
ex = train[0]
boxable = store.vocabulary("boxable")
print(f"{store}: configs {store.configs}, {len(train)} train examples")
print(f"train[0] {ex['image/filename']}: {len(ex['objects']['label'])} labels, boxes",
      [boxable.name(int(label)) for label in ex["bobjects"]["label"][:3]],
      f"image {train.decoded(0, '300k').shape}")
loader = torch.utils.data.DataLoader(ot.OpenImagesDataset(store, "train", config="300k"),
                                     batch_size=32, shuffle=True, num_workers=2,
                                     collate_fn=ot.collate)
start, n = time.perf_counter(), 0
for batch in loader:
    n += len(batch["image/filename"])
print(f"DataLoader: one epoch of {n} decoded examples in {time.perf_counter() - start:.2f} s")
PY

header "bench: reads on this store for about $bench_seconds s"
$bin bench "$store" --seconds "$bench_seconds"

if [ "$quick" = 0 ]; then
  header "transcode_bench: our transcoder against OpenCV's TFDS path"
  build/bench/transcode_bench --benchmark_min_time=0.5
fi

echo "   ($((SECONDS - step_start)) s)"
echo
echo "==== demo done in $((SECONDS - demo_start)) s; work folder $work"
