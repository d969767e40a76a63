#!/usr/bin/env bash
# Runs bench/report on a fixture of Google Benchmark JSON and checks ratios
# worked out by hand from its median rows (means or first repetitions give
# other values), the "not measured" paths and the PNG.
# Usage: bench_report_test.sh REPORT FIXTURE   (exit 77: skipped)
set -euo pipefail
report=$1 fixture=$2

if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  echo "skipped: /usr/bin/python3 has no matplotlib (apt-get install python3-matplotlib)"
  exit 77
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
expect() {  # FILE LINE...: each LINE appears in FILE as a substring of one line
  local file=$1; shift
  for want in "$@"; do
    grep -qF -- "$want" "$file" || { echo "FAIL: not in $(basename "$file"): $want"; fail=1; }
  done
}
png_ok() {  # FILE: a PNG of some size
  local sig
  sig=$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')
  [ "$sig" = 89504e470d0a1a0a ] || { echo "FAIL: $1 is not a PNG (starts $sig)"; fail=1; }
  [ "$(stat -c %s "$1")" -gt 10000 ] || { echo "FAIL: $1 is suspiciously small"; fail=1; }
}

"$report" "$fixture" --out-md "$out/R.md" --out-png "$out/r.png" --machine "test machine, 2 cores"
md=$out/R.md
expect "$md" \
  "- test machine, 2 cores" \
  'host `vm`: 2 CPUs at 2596 MHz' \
  "| annotation random Get vs LMDB | 1.62 | ≥ 1.50 | pass |" \
  "| image Get vs LMDB | 1.25 | ≥ 1.00 | pass |" \
  '| image Get vs files | — | ≥ 1.00 | not measured (`ImageGet/files/threads:1` failed: no --files_dir given) |' \
  "| shuffled vs sequential scan (cached) | 0.97 | ≥ 0.95 | pass |" \
  "| block-shuffled vs sequential scan (cold) | 0.75 | ≥ 0.80 | miss |" \
  '| Get+decode vs decode from RAM | — | ≥ 0.97 | not measured (no `Decode/store/threads:1`) |' \
  "| AnnotationGet/oiv4kv, 2 threads vs 1 (near-linear) | 1.75 | ≥ 1.80 | miss |" \
  "| ImageGet/oiv4kv, 2 threads vs 1 (near-linear) | 1.94 | ≥ 1.80 | pass |" \
  "| DataLoader, 0 workers: oiv4kv vs ImageFolder-style files + PIL | 1.86 | ≥ 1.50 | pass |" \
  '| DataLoader, 0 workers: oiv4kv vs LMDB + PIL | — | ≥ 1.00 | not measured (no `DataLoader/lmdb_pil/0/threads:1`) |' \
  "| Loader RandomResizedCrop 224 vs full decode from RAM (decode limit) | 1.09 | ≥ 1.20 | miss |" \
  "| Loader RandomResizedCrop 224, 2 threads vs 1 | 1.90 | ≥ 1.80 | pass |" \
  '| Loader letterbox 640, 2 threads vs 1 | — | ≥ 1.80 | not measured (no `Loader/letterbox_640/threads:2`) |' \
  "6 pass, 3 miss, 10 not measured." \
  "| Loader RandomResizedCrop 224 vs full decode from RAM (decode limit) | 1.14 | \`Loader/random_resized_crop_224/threads:2\`" \
  "| random_resized_crop_224 | 1 | 3 | 600 /s | 3.41 s | 432 | 1,234 |" \
  "| turbojpeg_full | 2 | 3 | 1.00 k/s |" \
  "| annotation random Get vs LMDB | 1.67 | \`AnnotationGet/oiv4kv/threads:2\`" \
  "| image Get vs LMDB | 1.27 | \`ImageGet/oiv4kv/threads:2\`" \
  "| 1 | 1 | 560 k/s | 352 k/s | 1.59 |" \
  "| 16 | 1 | 1.90 M/s | 950 k/s | 2.00 |" \
  '| 256 | 1 | 2.50 M/s | — | not measured (no `MultiGet/lmdb/256/threads:1`) |' \
  "| oiv4kv | 1 | 3 | 583 k/s | 1.71 µs |" \
  "| oiv4kv | 1 | 3 | 150 k/s | 6.75 GB/s | 6.67 µs | 812 |" \
  "| oiv4kv/2 | 1 | 1 | 1.10 M/s |" \
  "### RecordParse" \
  "| verify | 1 | 3 | — | 110 ns |"
if grep -q "_median\|real_time\|manual_time" "$md"; then
  echo "FAIL: Google Benchmark suffixes left in names"; fail=1
fi
png_ok "$out/r.png"

# No benchmarks at all: every target (19 in TARGETS) "not measured", still a chart.
echo '{"context": {}, "benchmarks": []}' > "$out/empty.json"
"$report" "$out/empty.json" --out-md "$out/E.md" --out-png "$out/e.png"
[ "$(grep -c '| not measured (no ' "$out/E.md")" = 19 ] || { echo "FAIL: empty input"; fail=1; }
png_ok "$out/e.png"

if [ "$fail" != 0 ]; then
  echo "--- report written:"; cat "$md"
  exit 1
fi
echo "bench_report: all checks passed"
