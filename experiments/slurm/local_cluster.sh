#!/usr/bin/env bash
# A single-node Slurm on this machine, for testing: munged, slurmctld and slurmd on
# localhost, configured in a directory of their own. Needs root and Debian's slurm-wlm
# and munge packages (`install` installs them).
#
#   experiments/slurm/local_cluster.sh install        # apt-get install slurm-wlm munge
#   eval "$(experiments/slurm/local_cluster.sh start DIR)"   # exports SLURM_CONF
#   sbatch ... ; squeue ...
#   experiments/slurm/local_cluster.sh stop DIR
#
# `start` writes DIR/slurm.conf (this host as the only node, all its CPUs, one
# partition "test"), a munge key and socket, state and logs, all under DIR; starts the
# three daemons; waits until the node accepts jobs; and prints `export SLURM_CONF=...`
# for the clients. `stop` ends exactly the daemons `start` started (by their pid
# files) and leaves DIR, with the logs, in place. Nothing outside DIR is written, so it
# does not disturb a Slurm or munge the machine already runs (other ports are used).
set -euo pipefail

die() { echo "local_cluster.sh: $*" >&2; exit 1; }

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    return
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null; } ||
    die "apt-get install slurm-wlm munge failed"
}

write_config() {
  local dir=$1 host cpus memory
  host=$(hostname -s)
  cpus=$(nproc)
  memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  cat >"$dir/slurm.conf" <<CONF
# Written by experiments/slurm/local_cluster.sh: a one-node test cluster.
ClusterName=kvlab-test
SlurmctldHost=$host
SlurmctldPort=${KVLAB_SLURMCTLD_PORT:-16817}
SlurmdPort=${KVLAB_SLURMD_PORT:-16818}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
# No cgroups in containers: track processes by their parent, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
SlurmdTimeout=60
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  # A key of our own, so that this munged needs nothing from /etc/munge.
  [ -f "$dir/munge/munge.key" ] || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 700 "$dir/munge"
  chmod 400 "$dir/munge/munge.key"
}

start() {
  local dir
  dir=$(mkdir -p "$1" && cd "$1" && pwd)
  [ "$(id -u)" -eq 0 ] || die "start needs root (slurmd runs jobs as their users)"
  for binary in munged slurmctld slurmd; do
    command -v "$binary" >/dev/null || die "$binary not found; run: $0 install"
  done
  [ ! -f "$dir/slurmctld.pid" ] || ! kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null ||
    die "$dir: a cluster is already running there; stop it first"
  write_config "$dir"
  munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed" --force ||
    die "munged did not start (see $dir/munge/munged.log)"
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -f "$SLURM_CONF" || die "slurmctld did not start (see $dir/slurmctld.log)"
  slurmd -f "$SLURM_CONF" || die "slurmd did not start (see $dir/slurmd.log)"
  local state=""
  for _ in $(seq 1 60); do
    state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)
    case "$state" in idle|mix|alloc) echo "export SLURM_CONF=$SLURM_CONF"; return ;; esac
    sleep 1
  done
  die "the node did not become idle within 60 s (state '${state}'; see $dir/slurmctld.log and $dir/slurmd.log)"
}

stop_daemon() {
  local pid_file=$1 pid
  [ -f "$pid_file" ] || return 0
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pid_file"
}

stop() {
  local dir=$1
  [ -d "$dir" ] || die "$dir: no such directory"
  # slurmd first: its jobs end with it.
  stop_daemon "$dir/slurmd.pid"
  stop_daemon "$dir/slurmctld.pid"
  stop_daemon "$dir/munge/munged.pid"
}

case "${1:-}" in
  install) install_packages ;;
  start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  *) die "usage: $0 install | start DIR | stop DIR" ;;
esac
