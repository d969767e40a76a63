#!/usr/bin/env bash
# Installs every system package oiv4-kv needs to build, test, benchmark and
# run its demo on Debian 12. Idempotent: re-running it changes nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  librocksdb-dev            # the store
  libflatbuffers-dev flatbuffers-compiler   # records (flatc at build time)
  libturbojpeg0-dev libjpeg62-turbo-dev     # JPEG decode/encode (TurboJPEG + libjpeg API)
  libzstd-dev zlib1g-dev
  libarchive-dev            # tar / tar.gz archives of the download
  libcli11-dev              # command line
  nlohmann-json3-dev        # JSON output of the command line
  libyuv-dev                # scaling and colour conversion
  libpng-dev                # PNG files under .jpg names (decode, transcode, synthetic downloads)
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev  # the OpenCV baseline in transcode_bench
  libgtest-dev libgmock-dev libbenchmark-dev  # tests and benchmarks
  liblmdb-dev               # the LMDB baseline in benchmarks
  time                      # /usr/bin/time: peak RSS of conversions in the demo
  python3-matplotlib        # bench/report's chart (Debian's /usr/bin/python3)
  libcairo2-dev python3-pandas  # oiv4-kv show (Cairo); Python to_pandas (issue 15)
  python3-dev pybind11-dev python3-numpy    # the Python module (python/)
  python3-pip python3-setuptools python3-wheel python3-venv  # pip install --no-build-isolation . (setup.py)
  python3-pytest            # its tests (tests/python)
  python3-torch             # oiv4kv.torch and its tests
  python3-torchvision python3-pil python3-lmdb  # bench/dataloader_bench.py's alternatives
  python3-yaml python3-distributed slurm-wlm munge  # scripts/cluster/ and their tests (issue 16)
  clang-14 libfuzzer-14-dev llvm-14  # the fuzz targets (scripts/fuzz.sh): clang, libFuzzer, llvm-symbolizer
)

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

$sudo apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} packages already installed"
fi
