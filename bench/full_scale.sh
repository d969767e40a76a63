#!/usr/bin/env bash
# Issue 16 #7: the whole dataset's scale, measured. Synthesizes a download
# with the real split sizes (1,743,042 / 41,620 / 125,436 images) and the
# real annotation volume (about 8.4 boxes, 16 human and 45 machine labels per
# image; tiny images, so that it fits this machine: bench/full_scale_synth.py)
# and records in bench/REPORT.md (its "Full scale" section, between the
# markers below; bench/report keeps that section when it rewrites the file):
#   - `convert --config original` (the annotations: images are tiny): wall
#     time and each step's line, peak RSS, peak staging disk, peak store disk;
#   - the store's size per column family (`oiv4-kv info --json`);
#   - Store::Open time and a reader process's RSS (bench/open_bench);
#   - annotation and image Get rates against LMDB holding the same ~1.9M keys
#     (bench/read_bench, the same code as bench/run.sh, on this store; the
#     300k config of the tiny images is converted for the image Gets);
#   - `oiv4-kv verify` time;
#   - the same download through `oiv4-kv plan` / `convert-unit` / `ingest`
#     (issue 16 #1-3) under `xargs -P`, its time and `dump` of every split
#     compared with the one-machine store;
#   - the real images extrapolated, arithmetic shown: hours per config on 2,
#     16 and 8x16 cores, from per-image rates measured on 1024 px images
#     (bench/multi_config.sh) and the gzip rate of one archive stream.
#
#   bench/full_scale.sh                     # the whole dataset (hours; ~40 GB of disk)
#   bench/full_scale.sh --scale 0.01        # 1% of it (minutes): a smoke run
# Options: --scale S (0 < S <= 1, default 1), --build DIR (build), --work DIR
# (/tmp/oiv4kv-full-scale), --out-md FILE (bench/REPORT.md), --reps R
# (read_bench repetitions, default 5), --rate-images N (1024 px images for the
# per-image rates, default 300), --keep (keep the work folder).
set -euo pipefail
cd "$(dirname "$0")/.."

scale=1 build=build work=/tmp/oiv4kv-full-scale out_md=bench/REPORT.md reps=5
rate_images=300 keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --out-md) out_md=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --rate-images) rate_images=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "bench/full_scale.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
cli=$build/tools/oiv4-kv
for b in "$cli" "$build/bench/open_bench" "$build/bench/read_bench"; do
  [ -x "$b" ] || { echo "bench/full_scale.sh: $b is not built" >&2; exit 2; }
done
py=/usr/bin/python3  # Debian's, with numpy
cores=$(nproc)
rm -rf "$work"
mkdir -p "$work"
download=$work/download store=$work/store
log=$work/log.md
: > "$log"
say() { echo "$*" | tee -a "$log"; }
now() { date +%s.%N; }
secs() { printf '%.1f' "$(echo "$2 - $1" | bc -l)"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

# --- the download ------------------------------------------------------------
"$cli" synth "$work/template" --images 64 --no-awkward --max-side 16 --archives tar \
  --seed 3 >/dev/null
t0=$(now)
"$py" bench/full_scale_synth.py --template "$work/template" --out "$download" \
  --scale "$scale" --seed 1 > "$work/synth.txt"
t1=$(now)
download_bytes=$(du -sb "$download" | cut -f1)

# --- convert original: the annotations ---------------------------------------
# Samples the staging folder's and the store's size every half second.
sample_disk() {
  local staging=0 total=0 s t
  while [ ! -f "$work/stop-sampling" ]; do
    s=$(du -sb "$store/convert-staging" 2>/dev/null | cut -f1 || true)
    t=$(du -sb "$store" 2>/dev/null | cut -f1 || true)
    [ -n "$s" ] && [ "$s" -gt "$staging" ] && staging=$s
    [ -n "$t" ] && [ "$t" -gt "$total" ] && total=$t
    echo "$staging $total" > "$work/disk-peaks"
    sleep 0.5
  done
}
echo "0 0" > "$work/disk-peaks"
rm -f "$work/stop-sampling"
sample_disk &
sampler=$!
/usr/bin/time -f "%e %M" -o "$work/convert-original.time" \
  "$cli" convert --source "$download" --store "$store" --config original \
    --label-lists "$download/tfds_lists" 2> "$work/convert-original.log"
touch "$work/stop-sampling"
wait "$sampler"
read -r original_s original_kib < "$work/convert-original.time"
read -r staging_peak store_peak < "$work/disk-peaks"
"$cli" info --json "$store" > "$work/info-original.json"

# --- units + ingest (issue 16 #1-3) -------------------------------------------
# As scripts/cluster/one_machine.sh runs them: every unit writes under one
# shared --out folder, which ingest reads with --units. Before the 300k
# conversion, so that both stores hold the original config alone.
plan=$work/plan units_dir=$work/units ustore=$work/store-units
t2=$(now)
"$cli" plan --source "$download" --config original --label-lists "$download/tfds_lists" \
  --out "$plan"
n_units=$("$py" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["units"]))' "$plan")
seq 0 $((n_units - 1)) | xargs -P "$cores" -I{} \
  "$cli" convert-unit --plan "$plan" --unit {} --out "$units_dir" --threads 1 \
    2>>"$work/units.log"
t3=$(now)
"$cli" ingest --plan "$plan" --units "$units_dir" --store "$ustore" 2>>"$work/units.log"
t4=$(now)
same=yes
for split in train validation test; do
  cmp -s <("$cli" dump "$store" --split "$split") <("$cli" dump "$ustore" --split "$split") ||
    same=no
done
units_md="$n_units units under \`xargs -P $cores\`: plan + units $(secs "$t2" "$t3") s, \
ingest $(secs "$t3" "$t4") s, total $(secs "$t2" "$t4") s (one-machine \`convert\`: \
${original_s} s); \`dump\` of every split equal to the one-machine store's: $same."
rm -rf "$units_dir" "$ustore"

# --- 300k of the tiny images, for the image Gets -----------------------------
/usr/bin/time -f "%e %M" -o "$work/convert-300k.time" \
  "$cli" convert --source "$download" --store "$store" --config 300k \
    --label-lists "$download/tfds_lists" 2> "$work/convert-300k.log"
read -r c300_s c300_kib < "$work/convert-300k.time"
"$cli" info --json "$store" > "$work/info.json"

# --- reader: open time, RSS, Get rates against LMDB ---------------------------
"$build/bench/open_bench" "$store" --gets 200000 --config 300k > "$work/open.json"
"$build/bench/read_bench" --ann_store="$store" --img_store="$store" \
  --work_dir="$work/baselines" \
  --benchmark_filter='^(AnnotationGet|ImageGet)/(oiv4kv|lmdb)/real_time/threads:1$' \
  --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
  --benchmark_enable_random_interleaving=true --benchmark_min_time=0.5 \
  --benchmark_out="$work/read.json" --benchmark_out_format=json > "$work/read.txt" 2>&1
lmdb_bytes=$(du -sb "$work/baselines" | cut -f1)

# --- verify ------------------------------------------------------------------
/usr/bin/time -f "%e %M" -o "$work/verify.time" "$cli" verify "$store" > "$work/verify.txt" 2>&1
read -r verify_s verify_kib < "$work/verify.time"

# --- per-image rates on 1024 px images, and one gzip stream -------------------
# bench/multi_config.sh makes the download (tar.gz) and the one-pass ratio;
# the rates are the image steps' own (the train line of each run's progress:
# images/s over that step, all cores), without the annotations' fixed cost.
bench/multi_config.sh --build "$build" --work "$work/rates" --images "$rate_images" --reps 1 \
  --threads "$cores" --json "$work/rates.json" > "$work/rates.md"
rates_dl=$work/rates/download
: > "$work/rates.txt"
for cfg in original 300k 200k 300k,200k,original; do
  rm -rf "$work/rates/store"
  "$cli" convert --source "$rates_dl" --store "$work/rates/store" --config "$cfg" \
    --threads "$cores" --label-lists "$rates_dl/tfds_lists" 2> "$work/rates/convert.log"
  line=$(grep -E "^$cfg train: " "$work/rates/convert.log" | tail -1)
  echo "$cfg ${line#*: }" >> "$work/rates.txt"
done
rm -rf "$work/rates/store"
gz_bytes=$(cat "$rates_dl"/*.tar.gz | wc -c)
t5=$(now)
cat "$rates_dl"/*.tar.gz | gzip -dc > /dev/null
t6=$(now)
gz_mbps=$(echo "$gz_bytes / ($t6 - $t5) / 1000000" | bc -l)

# --- the report section ---------------------------------------------------------
"$py" - "$work" "$scale" "$cores" "$original_s" "$original_kib" "$staging_peak" \
  "$store_peak" "$c300_s" "$c300_kib" "$verify_s" "$verify_kib" "$download_bytes" \
  "$lmdb_bytes" "$gz_mbps" "$(secs "$t0" "$t1")" "$units_md" > "$work/section.md" <<'EOF'
import json, os, sys
(work, scale, cores, original_s, original_kib, staging_peak, store_peak, c300_s, c300_kib,
 verify_s, verify_kib, download_bytes, lmdb_bytes, gz_mbps, synth_s, units_md) = sys.argv[1:]
scale, cores, gz_mbps = float(scale), int(cores), float(gz_mbps)
mib = lambda b: f"{int(b) / 1048576:,.0f} MiB"
info = json.load(open(os.path.join(work, "info.json")))
info0 = json.load(open(os.path.join(work, "info-original.json")))
opened = json.load(open(os.path.join(work, "open.json")))
rates = json.load(open(os.path.join(work, "rates.json")))
read = {}
for b in json.load(open(os.path.join(work, "read.json")))["benchmarks"]:
    if b.get("aggregate_name", "median") == "median":
        read[b["run_name"].split("/real_time")[0]] = b["items_per_second"]
L = []
L.append("## Full scale (issue 16 #7)")
L.append("")
L.append(f"Written by `bench/full_scale.sh --scale {scale:g}` on {cores} cores"
         + ("" if scale == 1 else f" (**{scale:g} of the real dataset: a smoke run, "
            "not the figures**)") + ". The download: " + open(os.path.join(work, "synth.txt")).read()
         .strip().replace("\n", "; ") + f"; {mib(download_bytes)} (tiny images), "
         f"synthesized in {synth_s} s.")
L.append("")
L.append("| What | Measured |")
L.append("|---|---:|")
L.append(f"| `convert --config original` (annotations; images tiny), wall | {float(original_s):,.1f} s |")
L.append(f"| its peak RSS | {int(original_kib) / 1024:,.0f} MiB |")
L.append(f"| its peak staging disk (`convert-staging`, sampled every 0.5 s) | {mib(staging_peak)} |")
L.append(f"| its peak store disk, staging included | {mib(store_peak)} |")
L.append(f"| `convert --config 300k` of the tiny images, wall / peak RSS | "
         f"{float(c300_s):,.1f} s / {int(c300_kib) / 1024:,.0f} MiB |")
L.append(f"| `Store::Open` (bench/open_bench) | {opened['open_s'] * 1000:,.1f} ms |")
L.append(f"| reader RSS: after Open / after {opened['gets']:,} annotation Gets / and as many "
         f"300k image Gets | {opened['rss_after_open_mib']:,.0f} / "
         f"{opened['rss_after_annotation_gets_mib']:,.0f} / "
         f"{opened['rss_after_image_gets_mib']:,.0f} MiB |")
L.append(f"| `oiv4-kv verify`, wall / peak RSS | {float(verify_s):,.1f} s / "
         f"{int(verify_kib) / 1024:,.0f} MiB |")
L.append("")
L.append("Store size per column family (`oiv4-kv info --json`), after original and after 300k:")
L.append("")
L.append("| Family | original only | + 300k |")
L.append("|---|---:|---:|")
for fam in info.get("bytes", {}):
    L.append(f"| {fam} | {mib(info0.get('bytes', {}).get(fam, 0))} | {mib(info['bytes'][fam])} |")
L.append("")
L.append(f"Random Gets of the train split, 1 thread, medians (bench/read_bench on this store; "
         f"its LMDB baselines hold the same keys, {mib(lmdb_bytes)}):")
L.append("")
L.append("| Get | oiv4kv | LMDB | oiv4kv / LMDB |")
L.append("|---|---:|---:|---:|")
for what in ("AnnotationGet", "ImageGet"):
    a, b = read.get(f"{what}/oiv4kv"), read.get(f"{what}/lmdb")
    if a and b:
        L.append(f"| {what} | {a / 1e3:,.0f} k/s | {b / 1e3:,.0f} k/s | {a / b:.2f} |")
L.append("")
L.append(f"Units + ingest: {units_md}")
L.append("")
# Extrapolation.
N = 1_743_042 + 41_620 + 125_436
GIB = 565
per_image = {}  # config -> (images/s with all cores, the progress line)
for line in open(os.path.join(work, "rates.txt")):
    cfg, rest = line.split(" ", 1)
    per_image[cfg] = (float(rest.split(",")[1].split()[0]), rest.strip())
L.append("The convert log of `--config original` (the annotation steps' times):")
L.append("")
L.append("```")
L += [l.rstrip() for l in open(os.path.join(work, "convert-original.log")) if l.strip()]
L.append("```")
L.append("")
L.append("One pass against separate runs (bench/multi_config.sh, 1 repetition):")
L.append("")
L += [l.rstrip() for l in open(os.path.join(work, "rates.md"))]
L.append("")
L.append(f"Extrapolation to the real images ({N:,} images, {GIB} GiB of tar.gz in 18 archives). "
         f"Core-seconds per image from the train step of `convert` on {rates['images']} "
         f"synthetic 1024 px images with {cores} threads (core-s/image = {cores} / images/s; "
         "the progress lines are below), and the archive read floor from gzip's rate "
         f"here ({gz_mbps:.0f} MB/s of tar.gz, one stream): each archive is read by one "
         "thread, so at most 18 streams run at once. hours = max(N x core-s/image / cores, "
         f"{GIB} GiB / ({gz_mbps:.0f} MB/s x min(cores, 18))) / 3600; separate runs read "
         "the archives once per config. 8x16 cores means units on a cluster (issue 16 #1-4); "
         "one machine's `convert` uses one machine.")
L.append("")
L.append("| Config | core-s/image | 2 cores | 16 cores | 8x16 cores |")
L.append("|---|---:|---:|---:|---:|")
floor = lambda c: GIB * 1024**3 / (gz_mbps * 1e6 * min(c, 18)) / 3600
rows = [(cfg, cores / per_image[cfg][0], 1) for cfg in
        ("original", "300k", "200k", "300k,200k,original") if cfg in per_image]
if all(c in per_image for c in ("original", "300k", "200k")):
    rows.append(("original + 300k + 200k, separate runs",
                 sum(cores / per_image[c][0] for c in ("original", "300k", "200k")), 3))
for name, per, reads in rows:
    cells = []
    for c in (2, 16, 128):
        compute = N * per / c / 3600
        fl = floor(c) * reads
        cells.append(f"**{max(compute, fl):,.1f} h** ({N:,} x {per:.4f} / {c} / 3600 = "
                     f"{compute:,.2f}; read floor {fl:,.2f})")
    L.append(f"| {name} | {per:.4f} | " + " | ".join(cells) + " |")
L.append("")
L.append("Progress lines the rates come from:")
L.append("")
L.append("```")
L += [f"{cfg}: {line}" for cfg, (_, line) in per_image.items()]
L.append("```")
L.append("")
print("\n".join(L))
EOF

# Into the report, between the markers (replacing an earlier section).
begin='<!-- full_scale.sh: begin -->' end='<!-- full_scale.sh: end -->'
[ -f "$out_md" ] || : > "$out_md"
"$py" - "$out_md" "$work/section.md" "$begin" "$end" <<'EOF'
import sys
path, section, begin, end = sys.argv[1:]
text = open(path).read()
block = begin + "\n" + open(section).read().rstrip("\n") + "\n" + end + "\n"
if begin in text and end in text:
    text = text[:text.index(begin)] + block + text[text.index(end) + len(end):].lstrip("\n")
else:
    text = text.rstrip("\n") + "\n\n" + block
open(path, "w").write(text)
EOF
cat "$work/section.md"
echo "bench/full_scale.sh: wrote the full-scale section of $out_md"
[ "$keep" = 1 ] || rm -rf "$work"
