#!/usr/bin/env bash
# `pip install --no-build-isolation <source>` into a fresh venv made with
# --system-site-packages (numpy, setuptools, wheel, pybind11 from Debian),
# then, with no build tree on any path, imports oiv4kv from the venv and reads
# a small store; then the same into the system interpreter, staged with --root. The source is copied into WORK_DIR first (a clean tree, and
# pip's in-tree build writes nothing into the checkout). pip builds the
# library and module again (setup.py: CMake, library + module only), with
# ccache when CMAKE_CXX_COMPILER_LAUNCHER says so.
# Usage: pip_install.sh SOURCE_DIR WORK_DIR PYTHON CLI
set -euo pipefail
src=$1 work=$2 python=$3 cli=$4
unset PYTHONPATH LD_LIBRARY_PATH
rm -rf "$work" && mkdir -p "$work/src"
tar -C "$src" --exclude='./build*' --exclude=./.git --exclude='*.egg-info' --exclude=__pycache__ \
  -cf - . | tar -C "$work/src" -xf -

"$python" -m venv --system-site-packages "$work/venv"
venv_python=$work/venv/bin/python
start=$(date +%s)
"$venv_python" -m pip install --no-build-isolation --no-deps --no-index "$work/src" \
  > "$work/pip.log" 2>&1 || { tail -40 "$work/pip.log"; exit 1; }
echo "pip install took $(( $(date +%s) - start )) s (log: $work/pip.log)"

"$cli" synth "$work/download" --images 12 --max-side 64 --no-awkward > /dev/null
"$cli" convert --source "$work/download" --store "$work/store" --config 300k > /dev/null 2>&1
cd "$work"
"$venv_python" - "$work/store" "$work/venv" <<'PY'
import os
import sys
import oiv4kv
store_path, venv = sys.argv[1], sys.argv[2]
package_dir = os.path.dirname(oiv4kv.__file__)
assert package_dir.startswith(os.path.realpath(venv) + "/") or package_dir.startswith(venv + "/"), package_dir
# The module found liboiv4kv next to itself (RPATH $ORIGIN), not elsewhere.
with open("/proc/self/maps") as maps:
    libs = {line.split()[-1] for line in maps if "liboiv4kv.so" in line}
assert libs and all(os.path.dirname(p) == package_dir for p in libs), (libs, package_dir)
split = oiv4kv.Store(store_path).split("train")
checked = 0
for i in range(len(split)):
    pixels = split.decoded(i, "300k")
    assert pixels.shape == split.image_size(i, "300k") + (3,), pixels.shape
    assert split[i]["image/filename"].endswith(".jpg")
    checked += 1
assert checked == len(split) and checked > 0, checked
print("venv oiv4kv", oiv4kv.__version__, "from", package_dir, "read", checked, "examples")
PY

# Into the system interpreter, staged under --root (as `sudo pip install`
# would, without touching this machine): the package lands in the folder the
# interpreter itself searches (its platlib: /usr/local/lib/python3.X/
# dist-packages on Debian). Reuses the build above, so it takes seconds.
"$python" -m pip install --no-build-isolation --no-deps --no-index --break-system-packages \
  --root "$work/sysroot" "$work/src" > "$work/pip-system.log" 2>&1 \
  || { tail -40 "$work/pip-system.log"; exit 1; }
platlib=$("$python" -c 'import sysconfig; print(sysconfig.get_path("platlib"))')
[ -f "$work/sysroot$platlib/oiv4kv/__init__.py" ] \
  || { echo "FAIL: system install did not put oiv4kv into $platlib"; find "$work/sysroot" -name __init__.py; exit 1; }
PYTHONPATH="$work/sysroot$platlib" "$python" - "$work/store" "$work/sysroot$platlib" <<'PY'
import os
import sys
import oiv4kv
store_path, site = sys.argv[1], sys.argv[2]
assert oiv4kv.__file__ == os.path.join(site, "oiv4kv", "__init__.py"), oiv4kv.__file__
split = oiv4kv.Store(store_path).split("train")
assert split.decoded(0, "300k").shape == split.image_size(0, "300k") + (3,)
print("system oiv4kv from", site, "read", len(split), "examples")
PY
