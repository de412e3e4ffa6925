#!/usr/bin/env bash
# A single-node SLURM on this machine, for benchmarks/slurm_check.py (issue 15).
#
#   bash benchmarks/slurm_local.sh start    # install (apt) if needed, write the config, start daemons
#   bash benchmarks/slurm_local.sh status   # exit 0 when the controller answers and the node is idle
#   bash benchmarks/slurm_local.sh stop     # stop the daemons this script started
#
# One node (this host) with the CPUs and RealMemory that `slurmd -C` reports, one partition
# ("local"), no cgroups (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none), no accounting
# database (AccountingStorageType=accounting_storage/none): the executor plugin then follows jobs
# with `squeue`, so MinJobAge keeps finished jobs visible for an hour. The config is
# /etc/slurm/slurm.conf, where every SLURM command looks by default (the executor plugin removes
# SLURM_* variables, SLURM_CONF too, before its srun inside the job); an existing slurm.conf that
# this script did not write is never overwritten. State, logs and pid files live under
# $POLLWAVES_SLURM_DIR (default /tmp/pollwaves-slurm). munged uses Debian's /etc/munge/munge.key.
# No systemd: the daemons are started directly. The daemons listen on this host only (the node address is
# 127.0.0.1). Needs root (apt-get, and slurmd runs jobs as their submitting user).
set -euo pipefail

DIR=${POLLWAVES_SLURM_DIR:-/tmp/pollwaves-slurm}
CONF=/etc/slurm/slurm.conf
MARK="# Written by benchmarks/slurm_local.sh"
unset SLURM_CONF
PARTITION=${POLLWAVES_SLURM_PARTITION:-batch}

log() { echo "slurm_local: $*" >&2; }

have_slurm() { command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null; }

install() {
  have_slurm && return 0
  if ! command -v apt-get >/dev/null; then log "no apt-get and no slurm-wlm installed"; return 1; fi
  log "installing slurm-wlm and munge with apt-get"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge) \
    >"${TMPDIR:-/tmp}/pollwaves-slurm-apt.log" 2>&1 || { log "apt-get install failed (see ${TMPDIR:-/tmp}/pollwaves-slurm-apt.log)"; return 1; }
  have_slurm
}

write_conf() {
  if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    log "$CONF exists and was not written by this script: not overwriting it"; return 1
  fi
  mkdir -p "$DIR"/{state,spool,log,run} "$(dirname "$CONF")"
  local host cpus mem
  host=$(hostname -s)
  # slurmd -C prints e.g. "NodeName=vm CPUs=2 Boards=1 ... RealMemory=24105"
  cpus=$(slurmd -C | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' | head -1)
  mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
  cat >"$CONF" <<EOF
$MARK: a single-node SLURM for the local profile check.
ClusterName=pollwaves-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
# no cgroups in this container
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
# no slurmdbd: sacct has nothing to read, the executor plugin uses squeue
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
# CPUs and memory are both consumable, so jobs are packed as on a real cluster
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# keep finished jobs in squeue for an hour (the executor's squeue status needs >= 120 s)
MinJobAge=3600
ReturnToService=2
# jobs keep the nice value of the submitting command (run snakemake under nice on a shared host)
PropagatePrioProcess=1
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  munge_ok && return 0
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  fi
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  chmod 0700 /etc/munge
  chmod 0400 /etc/munge/munge.key
  if id munge >/dev/null 2>&1; then
    runuser -u munge -- munged || munged --force
  else
    munged --force
  fi
  mkdir -p "$DIR/run" && touch "$DIR/run/munged.ours"  # stop() stops only a munged we started
  for _ in $(seq 20); do munge_ok && return 0; sleep 0.5; done
  log "munged did not start"; return 1
}

ctld_ok() { scontrol ping 2>/dev/null | grep -q "is UP"; }

node_ready() { sinfo -h -N -o "%T" 2>/dev/null | grep -Eq "^(idle|mixed|allocated)"; }

status() { ctld_ok && node_ready && sinfo -h -p "$PARTITION" -o "%P" 2>/dev/null | grep -q .; }

start() {
  install || return 1
  if status; then log "already running ($CONF)"; return 0; fi
  write_conf || return 1
  start_munge || return 1
  if ctld_ok; then
    scontrol reconfigure || true  # running, but without our partition
  else
    slurmctld -f "$CONF" || { log "slurmctld failed to start (see $DIR/log/slurmctld.log)"; return 1; }
    for _ in $(seq 30); do ctld_ok && break; sleep 0.5; done
    ctld_ok || { log "slurmctld does not answer (see $DIR/log/slurmctld.log)"; return 1; }
  fi
  if ! [ -s "$DIR/run/slurmd.pid" ] || ! kill -0 "$(cat "$DIR/run/slurmd.pid")" 2>/dev/null; then
    slurmd -f "$CONF" || { log "slurmd failed to start (see $DIR/log/slurmd.log)"; return 1; }
  fi
  for _ in $(seq 60); do node_ready && break; sleep 0.5; done
  if ! node_ready; then
    # a node left DOWN/DRAINED by an earlier run of this script
    scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true
    sleep 2
  fi
  node_ready || { log "node not ready: $(sinfo -h -N -o '%N %T %E' 2>&1)"; return 1; }
  log "running: $(sinfo -h -o '%P %a %D %C %m' 2>&1) (config $CONF)"
}

stop() {
  local p
  for d in slurmd slurmctld; do
    p=$DIR/run/$d.pid
    if [ -s "$p" ] && kill -0 "$(cat "$p")" 2>/dev/null; then
      kill "$(cat "$p")" && log "stopped $d"
    fi
  done
  p=/run/munge/munged.pid
  if [ -e "$DIR/run/munged.ours" ] && [ -s "$p" ] && kill -0 "$(cat "$p")" 2>/dev/null; then
    kill "$(cat "$p")" && log "stopped munged"
  fi
  rm -f "$DIR/run/munged.ours"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
