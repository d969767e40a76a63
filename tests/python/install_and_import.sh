#!/usr/bin/env bash
# Installs the python component into a scratch prefix and uses the installed
# package, with no build tree on any path.
# Usage: install_and_import.sh BUILD_DIR WORK_DIR PYTHON CLI
set -euo pipefail
build=$1 work=$2 python=$3 cli=$4
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --component python --prefix "$work/prefix" > "$work/install.log"
"$cli" synth "$work/download" --images 12 --max-side 64 --no-awkward > /dev/null
"$cli" convert --source "$work/download" --store "$work/store" --config 300k > /dev/null 2>&1
# The folder the interpreter named (dist-packages or site-packages).
site=$(dirname "$(dirname "$(find "$work/prefix" -path '*/oiv4kv/__init__.py' | head -1)")")
cd "$work"
PYTHONPATH=$site "$python" - "$work/store" "$site" <<'PY'
import sys
import oiv4kv
store_path, site = sys.argv[1], sys.argv[2]
assert oiv4kv.__file__.startswith(site), oiv4kv.__file__
split = oiv4kv.Store(store_path).split("train")
pixels = split.decoded(0, "300k")
assert pixels.shape == split.image_size(0, "300k") + (3,), pixels.shape
print("installed oiv4kv", oiv4kv.__version__, "read", len(split), "examples")
PY
