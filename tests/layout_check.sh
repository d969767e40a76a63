#!/usr/bin/env bash
# The dependency rule of the tree (store/README.md), checked two ways:
# 1. Includes: every `#include "<folder>/..."` in store/<target>/, tools/,
#    python/src/ and bench/ must name a folder its own folder may depend on;
#    a forbidden edge fails, naming file:line. A store/ subfolder without a
#    rule here fails too, so a new folder gets one.
# 2. Links: the oiv4-kv binary's link line names no test generator library
#    (oiv4kv_testing), and neither the binary nor liboiv4kv defines a
#    test-only generator's symbol.
# Usage: layout_check.sh SOURCE_DIR [BINARY_DIR CLI LIBRARY]
set -uo pipefail
src=$1 bin=${2:-} cli=${3:-} lib=${4:-}
cd "$src" || exit 1
fail=0

# folder -> the folders its includes may name ("oiv4kv/..." public headers are
# always allowed; system headers are not checked; the public headers name no
# folder). tests/ may use anything.
declare -A allowed=(
  [store/include]=""
  [store/core]="store/core schema"
  [store/convert]="store/convert store/core schema"
  [store/verify]="store/verify store/core schema"
  [store/synth]="store/synth store/core schema"
  [store/testing]="store/testing store/synth store/core schema"
  [tools]="tools store/convert store/verify store/synth"  # + oiv4kv/ public headers
  [python]="python"  # the public API of core only (oiv4kv/...)
  [bench]="bench store/convert store/testing"
)
# Files that measure the store's internal format (LMDB holding the store's own
# records, layout variants) and so link oiv4kv_internal: they may also include
# core's internal headers. Nothing else outside store/ and tests/ may.
declare -A internal_files=(
  [bench/bench_data.h]=1 [bench/bench_data.cc]=1 [bench/read_bench.cc]=1 [bench/layout_bench.cc]=1
)
# The folder an include or a file belongs to: store/<target>, or the top-level
# folder.
folder_of() {
  case $1 in
    store/include/*) echo store/include ;;
    store/*/*) echo "${1%%/*}/$(cut -d/ -f2 <<< "$1")" ;;
    */*) echo "${1%%/*}" ;;
    *) echo "" ;;
  esac
}

for dir in store/*/; do
  dir=${dir%/}
  if [[ -z ${allowed[$dir]+x} ]]; then
    echo "layout: $dir has no dependency rule in tests/layout_check.sh"
    fail=1
  fi
done
[[ -z $(find store -maxdepth 1 -type f \( -name '*.cc' -o -name '*.h' \)) ]] || {
  echo "layout: source files directly in store/ (each belongs to a target folder):"
  find store -maxdepth 1 -type f \( -name '*.cc' -o -name '*.h' \)
  fail=1
}

checked=0
while IFS= read -r file; do
  from=$(folder_of "$file")
  [[ -n ${allowed[$from]+x} ]] || continue
  while IFS=: read -r line inc; do
    checked=$((checked + 1))
    to=$(folder_of "$inc")
    case $to in store/include|"") continue ;; esac
    case $to in store/*|schema|tools|python|bench|tests) ;; *) continue ;; esac
    ok=0
    for a in ${allowed[$from]}; do [[ $to == "$a" ]] && ok=1; done
    [[ -n ${internal_files[$file]+x} && ( $to == store/core || $to == schema ) ]] && ok=1
    if ((!ok)); then
      echo "layout: $file:$line: $from may not include $inc ($to); allowed: ${allowed[$from]:-(only oiv4kv/ public headers)}"
      fail=1
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" |
           sed -E 's/^([0-9]+):[^"]*"([^"]*)".*/\1:\2/')
done < <(find store tools python/src bench -type f \( -name '*.cc' -o -name '*.h' \) | sort)
if ((checked == 0)); then
  echo "layout: no include checked (wrong source dir?)"
  fail=1
fi
echo "layout: $checked includes checked"

# Test-only generators and references (store/testing) never reach the CLI or
# the library. The image generator and the JPEG/PNG/EXIF writers the CLI
# ships live in oiv4kv::synth and are not listed.
generators='oiv4kv::(SampleExampleGenerator|EncodeJpegLikeOpenCv|EncodeJpegManyScans|DecodeJpegRgb|AreaResample|BilinearResample|ApplyOrientation|Psnr)\b'
if [[ -n $bin ]]; then
  link=
  if [[ -f $bin/tools/CMakeFiles/oiv4-kv.dir/link.txt ]]; then
    link=$(cat "$bin/tools/CMakeFiles/oiv4-kv.dir/link.txt")
  elif [[ -f $bin/build.ninja ]]; then
    link=$(awk '/^build tools\/oiv4-kv:/{p=1} p&&/^$/{exit} p' "$bin/build.ninja")
  fi
  if [[ -z $link ]]; then
    echo "layout: no link command for oiv4-kv found in $bin"
    fail=1
  elif grep -q 'oiv4kv_testing' <<< "$link"; then
    echo "layout: oiv4-kv links oiv4kv_testing (test generators): $(grep -o '[^ ]*oiv4kv_testing[^ ]*' <<< "$link" | head -1)"
    fail=1
  fi
fi
if [[ -n $cli ]]; then
  hits=$(nm -C --defined-only "$cli" | grep -E "$generators" | head -3)
  [[ -z $hits ]] || { echo "layout: $cli defines test generator symbols:"; echo "$hits"; fail=1; }
fi
if [[ -n $lib ]]; then
  hits=$(nm -C --defined-only "$lib" | grep -E "$generators" | head -3)
  [[ -z $hits ]] || { echo "layout: $lib defines test generator symbols:"; echo "$hits"; fail=1; }
fi
((fail)) && { echo "layout: FAILED"; exit 1; }
echo "layout: OK"
