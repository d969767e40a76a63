#!/usr/bin/env bash
# Installs the built library into a scratch prefix, then configures, builds
# and runs a tiny project that finds it with find_package(oiv4kv). The program
# runs with LD_LIBRARY_PATH unset and must load the prefix's liboiv4kv (the
# RPATH CMake gives a program linked against an installed package).
# Usage: build_and_run.sh BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR
set -euo pipefail
build_dir=$1 source_dir=$2 work=$3
unset LD_LIBRARY_PATH
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
lib=$(ldd "$work/build/consumer" | awk '/liboiv4kv\.so/ {print $3}')
case "$lib" in
  "$work/prefix"/*) ;;
  *) echo "FAIL: the consumer loads liboiv4kv from '$lib', not from $work/prefix"; exit 1 ;;
esac
"$work/build/consumer" "$work/store"
