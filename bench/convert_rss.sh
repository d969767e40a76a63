#!/usr/bin/env bash
# Peak RSS and wall time of `oiv4-kv convert` at two download sizes: memory
# must not grow with the dataset. Prints a markdown table.
# Usage: bench/convert_rss.sh [BUILD_DIR] [WORK_DIR] [SMALL] [LARGE] [CONFIG]
set -euo pipefail
build=${1:-build}
work=${2:-/tmp/oiv4kv-convert-rss}
small=${3:-2000}
large=${4:-20000}
config=${5:-300k}
bin=$build/tools/oiv4-kv

echo "| images | config | wall s | images/s | peak RSS MiB |"
echo "|---:|---|---:|---:|---:|"
for n in "$small" "$large"; do
  rm -rf "$work/$n"
  mkdir -p "$work/$n"
  $bin synth "$work/$n/download" --images "$n" --seed 7 --no-awkward >/dev/null
  /usr/bin/time -f "%e %M" -o "$work/$n/time" \
    $bin convert --source "$work/$n/download" --store "$work/$n/store" --config "$config" \
      --label-lists "$work/$n/download/tfds_lists" 2>/dev/null
  read -r secs kib < "$work/$n/time"
  awk -v n="$n" -v c="$config" -v s="$secs" -v k="$kib" \
    'BEGIN { printf "| %d | %s | %.1f | %.0f | %.0f |\n", n, c, s, n / s, k / 1024 }'
  rm -rf "$work/$n"
done
