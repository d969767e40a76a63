#!/usr/bin/env bash
# Installs the build into two prefixes, a system-like one staged with DESTDIR
# (prefix /usr, as a distribution package is built) and a user prefix
# (~/.local-like), and runs each installed oiv4-kv with LD_LIBRARY_PATH unset:
# --help, then synth + convert + info on a small download. The CLI links the
# library statically (store/core/CMakeLists.txt), so it must need no
# liboiv4kv at run time and every library it does need must resolve.
# (tests/consumer/build_and_run.sh checks the installed library package.)
# Usage: install_cli.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
unset LD_LIBRARY_PATH
rm -rf "$work" && mkdir -p "$work"

checked=0
check_prefix() {  # NAME BIN_DIR  (BIN_DIR: where bin/oiv4-kv landed)
  local name=$1 bin=$2/bin/oiv4-kv
  [ -x "$bin" ] || { echo "FAIL $name: no $bin"; exit 1; }
  local libs
  libs=$(ldd "$bin")
  if grep -q "not found" <<< "$libs"; then
    echo "FAIL $name: $bin needs libraries the loader does not find:"; echo "$libs"; exit 1
  fi
  if grep -q "liboiv4kv" <<< "$libs"; then
    echo "FAIL $name: $bin loads liboiv4kv at run time (it should carry it):"; echo "$libs"; exit 1
  fi
  "$bin" --help > "$work/$name.help"
  grep -q "synth" "$work/$name.help" || { echo "FAIL $name: --help lists no synth"; exit 1; }
  "$bin" synth "$work/$name.download" --images 6 --max-side 48 --no-awkward > /dev/null
  "$bin" convert --source "$work/$name.download" --store "$work/$name.store" --config 300k \
    > "$work/$name.convert.log" 2>&1
  "$bin" info "$work/$name.store" > "$work/$name.info"
  grep -q "300k" "$work/$name.info" || { echo "FAIL $name: info names no 300k config"; cat "$work/$name.info"; exit 1; }
  echo "ok $name: $bin runs with LD_LIBRARY_PATH unset"
  checked=$((checked + 1))
}

DESTDIR="$work/root" cmake --install "$build" --prefix /usr > "$work/system.log"
check_prefix system "$work/root/usr"
cmake --install "$build" --prefix "$work/home/.local" > "$work/user.log"
check_prefix user "$work/home/.local"
[ "$checked" = 2 ] || { echo "FAIL: checked $checked prefixes, expected 2"; exit 1; }

