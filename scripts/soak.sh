#!/usr/bin/env bash
# The long tier of the kill -9 soak (docs/fault_battery.md): N conversions
# (default 200) of a synthetic download in the 300k config, each killed with
# SIGKILL at random seeded moments and resumed until it completes, then
# compared with a clean conversion. Prints the kills survived.
# Usage: scripts/soak.sh [N] [SEED]   (needs a build in build/: soak_test)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/tests/soak_test
[ -x "$bin" ] || { echo "$bin missing: build it first (ninja -C build soak_test oiv4-kv)" >&2; exit 2; }
OIV4KV_SOAK_N=${1:-200} OIV4KV_SOAK_SEED=${2:-1} exec "$bin" --gtest_brief=0
