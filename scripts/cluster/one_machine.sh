#!/bin/bash
# Usage: one_machine.sh PLAN WORK STORE [JOBS] -- every unit of the plan on
# this machine, JOBS at once (default: cores / 2; each unit reads its own gzip
# stream), then the ingest.
set -euo pipefail
PLAN=$1 WORK=$2 STORE=$3 JOBS=${4:-$(( $(nproc) / 2 > 0 ? $(nproc) / 2 : 1 ))}
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["units"]))' "$PLAN")
seq 0 $((n - 1)) | xargs -P "$JOBS" -I{} oiv4-kv convert-unit --plan "$PLAN" --unit {} \
  --out "$WORK" --threads 2
oiv4-kv ingest --plan "$PLAN" --units "$WORK" --store "$STORE"
