#!/usr/bin/env bash
# The project as somebody else's subproject, and a top-level build with every
# optional part OFF.
# 1. A parent project add_subdirectory()s the source with OIV4KV_BUILD_TOOLS
#    OFF and nothing else set: tests, benchmarks and Python must default to OFF
#    (not the top-level project), none of their targets may exist, and the
#    parent's program (tests/consumer/main.cc, public headers only) builds
#    against oiv4kv::oiv4kv with only the library and runs.
# 2. A top-level configure with tests, benchmarks, tools and Python all OFF
#    succeeds (configure only: (1) already built the library).
# Usage: library_only.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1 work=$2
rm -rf "$work" && mkdir -p "$work/parent"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)

cat > "$work/parent/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(oiv4kv_parent LANGUAGES CXX)
set(OIV4KV_BUILD_TOOLS OFF)
add_subdirectory("$src" oiv4kv)
foreach(part TESTS BENCHMARKS PYTHON)
  if(OIV4KV_BUILD_\${part})
    message(FATAL_ERROR "OIV4KV_BUILD_\${part} is ON in a subproject")
  endif()
endforeach()
foreach(target oiv4-kv oiv4kv_testutil oiv4kv_testing scan_test oiv4kv_python transcode_bench)
  if(TARGET \${target})
    message(FATAL_ERROR "target \${target} exists in a library-only subproject")
  endif()
endforeach()
add_executable(consumer "$src/tests/consumer/main.cc")
set_target_properties(consumer PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON)
target_link_libraries(consumer PRIVATE oiv4kv::oiv4kv)
CMAKE
start=$(date +%s)
cmake -S "$work/parent" -B "$work/parent-build" "${generator[@]}" > "$work/parent.log" 2>&1 \
  || { cat "$work/parent.log"; exit 1; }
cmake --build "$work/parent-build" --target consumer >> "$work/parent.log" 2>&1 \
  || { tail -40 "$work/parent.log"; exit 1; }
"$work/parent-build/consumer" "$work/store"
echo "subproject: configure + build of library and consumer took $(( $(date +%s) - start )) s"

start=$(date +%s)
cmake -S "$src" -B "$work/top-build" "${generator[@]}" -DOIV4KV_BUILD_TESTS=OFF \
  -DOIV4KV_BUILD_BENCHMARKS=OFF -DOIV4KV_BUILD_TOOLS=OFF -DOIV4KV_BUILD_PYTHON=OFF \
  > "$work/top.log" 2>&1 || { cat "$work/top.log"; exit 1; }
for part in TESTS BENCHMARKS TOOLS PYTHON; do
  grep -q "^OIV4KV_BUILD_$part:BOOL=OFF$" "$work/top-build/CMakeCache.txt" \
    || { echo "FAIL: OIV4KV_BUILD_$part is not OFF in the top-level cache"; exit 1; }
done
echo "top level, all OFF: configure took $(( $(date +%s) - start )) s"
