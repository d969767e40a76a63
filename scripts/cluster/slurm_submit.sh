#!/bin/bash
# Usage: slurm_submit.sh PLAN WORK STORE -- submits the units as an array job
# and the ingest with --dependency=afterok on it.
set -euo pipefail
PLAN=$1 WORK=$2 STORE=$3
here=$(cd "$(dirname "$0")" && pwd)
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["units"]))' "$PLAN")
array=$(sbatch --parsable --array=0-$((n - 1)) --export=ALL,PLAN="$PLAN",WORK="$WORK" \
  "$here/slurm_units.sbatch")
sbatch --parsable --dependency=afterok:"${array%%;*}" \
  --export=ALL,PLAN="$PLAN",WORK="$WORK",STORE="$STORE" "$here/slurm_ingest.sbatch"
