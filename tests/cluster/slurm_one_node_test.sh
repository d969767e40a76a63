#!/bin/bash
# scripts/cluster/slurm_submit.sh, as shipped, on a one-node Slurm cluster that
# this test sets up in a temp folder (its own munged, slurmctld and slurmd on
# 127.0.0.1), against one-machine convert of the same synthetic download:
# equal dump of every split. Everything it starts is stopped at the end.
# Usage: slurm_one_node_test.sh OIV4KV_BINARY SOURCE_DIR
# Exit 77 (skip) when Slurm or munge is not installed or does not come up.
set -u
B=$(realpath "$1")
SRC=$(realpath "$2")
T=$(mktemp -d)
pids=()
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/log/*; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }
skip() { echo "SKIP: $*"; for f in "$T"/log/*; do echo "--- $f"; tail -n 20 "$f"; done; exit 77; }
# Waits (bounded) until the command succeeds.
wait_for() {
  local what=$1 limit=$2; shift 2
  for ((i = 0; i < limit * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
source "$SRC/tests/convert/same_dumps.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for tool in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v $tool >/dev/null || skip "$tool not installed (Debian: slurm-wlm, munge)"
done
[ "$(id -u)" = 0 ] || skip "slurmd must run as root to start jobs"
# munged wants its socket folder (and those above) searchable by everyone.
mkdir -p "$T"/{log,state,spool,munge} && chmod 711 "$T" "$T/munge"

# munged with its own key and socket.
head -c 1024 /dev/urandom >"$T/munge/key" && chmod 600 "$T/munge/key"
munged -F --socket="$T/munge/sock" --key-file="$T/munge/key" --pid-file="$T/munge/pid" \
  --log-file="$T/log/munged" --seed-file="$T/munge/seed" >"$T/log/munged.out" 2>&1 &
pids+=($!)
wait_for munged 20 test -S "$T/munge/sock" || skip "munged did not start"

# The sbatch files ask for 4 CPUs and 8G a unit: the node says it has them
# (config_overrides: slurmd believes the config, not the hardware).
ctld_port=$(free_port) d_port=$(free_port)
cat >"$T/slurm.conf" <<EOF
ClusterName=oiv4test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld
SlurmdLogFile=$T/log/slurmd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=4 RealMemory=16384 State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$T/slurm.conf"
slurmctld -D -i -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 &
pids+=($!)
node_idle() { sinfo -h -N -o %t | grep -qx idle; }
wait_for slurm 60 node_idle || skip "the Slurm node did not come up idle: $(sinfo -N 2>&1)"

# The conversion: synth, one-machine convert, plan, then the shipped scripts.
"$B" synth --images 60 --max-side 64 --threads 1 "$T/dl" >/dev/null 2>&1 || fail synth
"$B" convert --source "$T/dl" --store "$T/one" --config original --on-error skip --threads 1 \
  >/dev/null 2>&1 || fail convert
"$B" plan --source "$T/dl" --config original --on-error skip --out "$T/w/plan.json" >/dev/null 2>&1 \
  || fail plan
export PATH="$(dirname "$B"):$PATH"
cd "$T" || fail "cd $T"  # the jobs write slurm-*.out here
jobs=$(bash "$SRC/scripts/cluster/slurm_submit.sh" "$T/w/plan.json" "$T/w" "$T/two") \
  || fail "slurm_submit.sh: $jobs"
ingest_job=$(echo "$jobs" | tail -n 1)
ingest_state() { scontrol show job "$ingest_job" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
finished() { case $(ingest_state) in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) return 0;; esac; return 1; }
wait_for jobs 240 finished || fail "ingest job $ingest_job not finished in 240 s: $(squeue 2>&1)"
[ "$(ingest_state)" = COMPLETED ] || { cat "$T"/slurm-*.out; fail "ingest job $ingest_job: $(ingest_state)"; }

why=$(same_dumps "$B" "$T/one" "$T/two" "$T") || fail "$why"
units=$(ls "$T"/slurm-*_*.out 2>/dev/null | wc -l)
[ "$units" = 18 ] || fail "$units array tasks wrote output, want 18"
echo "PASS: 18 array tasks and the ingest job on one-node Slurm, 3 splits equal"
