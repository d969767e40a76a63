#!/usr/bin/env bash
# Issue 16 #6: all three configs in one pass (`convert --config
# 300k,200k,original`: each archive read once, each image decoded once)
# against three separate runs, on a synthetic download of 1024 px images
# (tar.gz archives, as downloaded). Each repetition converts into fresh
# stores, the one-pass run and the separate runs in alternating order; the
# figures are medians. Target: one pass <= 0.6x the three runs.
#
#   bench/multi_config.sh                      # 600 images, 3 repetitions
#   bench/multi_config.sh --images 60 --reps 1 # smoke run
#   bench/multi_config.sh --json FILE          # also the figures as JSON
#                                              # (bench/full_scale.sh reads them)
# Options: --build DIR (build), --work DIR (/tmp/oiv4kv-multi-config),
# --images N, --reps R, --threads T (default: all cores), --json FILE.
# Prints a markdown table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build work=/tmp/oiv4kv-multi-config images=600 reps=3 threads=0 json=
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --images) images=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    *) echo "bench/multi_config.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
cli=$build/tools/oiv4-kv
[ "$threads" -gt 0 ] || threads=$(nproc)
rm -rf "$work"
mkdir -p "$work"
download=$work/download
"$cli" synth "$download" --images "$images" --no-awkward --max-side 1024 --seed 16 >/dev/null

# convert_s STORE CONFIGS: seconds of one convert into a fresh STORE; its
# peak RSS (KiB, /usr/bin/time) is appended to $work/rss-<CONFIGS>.
convert_s() {
  rm -rf "$1"
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f '%M' -a -o "$work/rss-$2" "$cli" convert --source "$download" \
    --store "$1" --config "$2" --threads "$threads" --label-lists "$download/tfds_lists" \
    2>/dev/null
  end=$(date +%s.%N)
  printf '%.6f\n' "$(echo "$end - $start" | bc -l)"
}

one=() sep=() s300=() s200=() sorig=()
for ((r = 0; r < reps; r++)); do
  run_one() { one+=("$(convert_s "$work/one" 300k,200k,original)"); }
  run_sep() {
    local a b c
    a=$(convert_s "$work/sep" 300k)
    b=$(convert_s "$work/sep-200k" 200k)
    c=$(convert_s "$work/sep-original" original)
    s300+=("$a") s200+=("$b") sorig+=("$c")
    sep+=("$(printf '%.6f' "$(echo "$a + $b + $c" | bc -l)")")
  }
  if ((r % 2 == 0)); then run_one; run_sep; else run_sep; run_one; fi
done
rm -rf "$work/one" "$work/sep" "$work/sep-200k" "$work/sep-original"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {
  if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
m_one=$(median "${one[@]}") m_sep=$(median "${sep[@]}")
m300=$(median "${s300[@]}") m200=$(median "${s200[@]}") morig=$(median "${sorig[@]}")
ratio=$(printf '%.4f' "$(echo "$m_one / $m_sep" | bc -l)")
rss_mib() { sort -g "$work/rss-$1" | tail -1 | awk '{ printf "%.0f", $1 / 1024 }'; }
verdict=$(echo "$ratio <= 0.6" | bc -l)

echo "| ${images} images of 1024 px, ${threads} threads, median of ${reps} | seconds | images/s | peak RSS MiB |"
echo "|---|---:|---:|---:|"
for row in "300k alone:$m300:$(rss_mib 300k)" "200k alone:$m200:$(rss_mib 200k)" \
           "original alone:$morig:$(rss_mib original)" "three separate runs:$m_sep:" \
           "one pass, --config 300k,200k,original:$m_one:$(rss_mib 300k,200k,original)"; do
  IFS=: read -r name s rss <<< "$row"
  awk -v name="$name" -v s="$s" -v n="$images" -v rss="${rss:-}" \
    'BEGIN { printf "| %s | %.2f | %.1f | %s |\n", name, s, n / s, rss }'
done
printf '\none pass / three runs: %.2fx (target <= 0.6x: %s)\n' "$ratio" \
  "$([ "$verdict" = 1 ] && echo pass || echo miss)"
if [ -n "$json" ]; then
  cat > "$json" <<EOF
{"images": $images, "threads": $threads, "reps": $reps,
 "seconds": {"300k": $m300, "200k": $m200, "original": $morig,
             "separate": $m_sep, "one_pass": $m_one},
 "ratio": $ratio}
EOF
fi
