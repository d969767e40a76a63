#!/usr/bin/env bash
# The long tier of the kill -9 soak (docs/fault_battery.md): N conversions
# (default 200) of a synthetic download in the 300k config, each killed with
# SIGKILL at random seeded moments and resumed until it completes, then
# compared with a clean conversion. Prints the kills survived.
# With --units, the sharded path instead: N rounds (default 200) of every
# `convert-unit` of a plan and the `ingest`, each killed and rerun, then
# compared with a one-machine convert.
# Usage: scripts/soak.sh [--units] [N] [SEED]   (needs a build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--units" ]; then
  shift
  bin=build/tests/unit_soak_test
  [ -x "$bin" ] || { echo "$bin missing: build it first (ninja -C build unit_soak_test oiv4-kv)" >&2; exit 2; }
  OIV4KV_UNIT_SOAK_N=${1:-200} OIV4KV_UNIT_SOAK_SEED=${2:-1} exec "$bin" --gtest_brief=0 \
    --gtest_filter=UnitSoak.RandomKillsOfUnitsAndIngestThenResumeGiveTheOneMachineStore
fi
bin=build/tests/soak_test
[ -x "$bin" ] || { echo "$bin missing: build it first (ninja -C build soak_test oiv4-kv)" >&2; exit 2; }
OIV4KV_SOAK_N=${1:-200} OIV4KV_SOAK_SEED=${2:-1} exec "$bin" --gtest_brief=0
