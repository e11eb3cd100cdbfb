#!/usr/bin/env bash
# Submits a sweep to Slurm: a job array running its shards (sweep.sbatch), and a merge
# job that runs after every task has ended and builds the aggregate files. Under a
# protocol that splits its samples between shards (RULER), each shard runs its share of
# every batch's samples and the last job is `run` without --shard, which gathers them,
# runs any sample a failed task left, and writes the runs and the aggregate files.
#
#   experiments/slurm/submit.sh --config=experiments/configs/eviction_streaming.pbtxt \
#       [--tasks=N] [--cpus=C] [--mem=M] [--gpus=G] [--time=T] [--partition=P] \
#       [--array=LIST] [--bin=DIR] [--logs=DIR] [-- run flags...]
#
# Run it from the directory the config's relative paths are relative to (the
# checkout), on storage every node sees, after building once:
#   bazel build //experiments:run //experiments:merge
#
#   --tasks   shards, one array task each. Default: one per lockstep batch of the
#             config (`run --plan`), or per sample group under a protocol that splits
#             samples, at most 32. Batches go to shards by a hash of their run names
#             (shard.h), so some tasks may get none; sample groups by their index.
#   --cpus    CPUs per task. Default: the config's `threads`, else 1; `run` gets
#             --threads=C only when the config leaves threads unset, so a config's
#             threads (which results can depend on) are never overridden.
#   --mem     memory per task (sbatch --mem). Default: 4G.
#   --gpus    GPUs per task. Default: 1 when the config's device is cuda, else 0.
#   --time    time limit per task (sbatch --time). Default: the partition's.
#   --array   the tasks to submit, e.g. "1" to resubmit shard 1 of --tasks after it was
#             killed. Default: all.
#   --bin     where `run` and `merge` are. Default: bazel-bin/experiments.
#   --logs    where the jobs' output goes (<job name>-<array job>_<task>.out and
#             <job name>-merge-<job>.out). Default: slurm-logs.
# Flags after "--" go to `run` and `merge` (--output_dir=..., --model=..., --text=...).
# Prints the array's and the merge job's ids, as "<array job id> <merge job id>".
set -euo pipefail

config="" tasks="" cpus="" mem="4G" gpus="" time_limit="" partition="" array=""
bin="bazel-bin/experiments"
logs="slurm-logs"
run_flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config=*) config="${1#*=}" ;;
    --tasks=*) tasks="${1#*=}" ;;
    --cpus=*) cpus="${1#*=}" ;;
    --mem=*) mem="${1#*=}" ;;
    --gpus=*) gpus="${1#*=}" ;;
    --time=*) time_limit="${1#*=}" ;;
    --partition=*) partition="${1#*=}" ;;
    --array=*) array="${1#*=}" ;;
    --bin=*) bin="${1#*=}" ;;
    --logs=*) logs="${1#*=}" ;;
    --) shift; run_flags=("$@"); break ;;
    *) echo "submit.sh: unknown argument '$1' (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "submit.sh: $*" >&2; exit 2; }
[ -n "$config" ] || die "--config=<experiment.pbtxt> is required"
[ -f "$config" ] || die "--config: no such file: $config"
for binary in run merge; do
  [ -x "$bin/$binary" ] || die "--bin: $bin/$binary is not an executable; build it first: bazel build //experiments:run //experiments:merge"
done
for pair in "tasks:$tasks" "cpus:$cpus" "gpus:$gpus"; do
  value="${pair#*:}"
  [[ -z "$value" || "$value" =~ ^[0-9]+$ ]] || die "--${pair%%:*}: expected a whole number, got '$value'"
done
command -v sbatch >/dev/null || die "sbatch not found: run this on a Slurm login node"

# Absolute paths: tasks may start elsewhere than here.
bin="$(cd "$bin" && pwd)"
mkdir -p "$logs" || die "--logs: cannot create $logs"
logs="$(cd "$logs" && pwd)"
read -r batches config_threads device finish < <("$bin/run" --config="$config" --plan "${run_flags[@]}") ||
  die "cannot read $config (run --plan failed)"
[ -n "$tasks" ] || tasks=$(( batches < 32 ? batches : 32 ))
[ "$tasks" -ge 1 ] || die "--tasks: expected >= 1, got $tasks"
if [ "$tasks" -gt "$batches" ]; then
  echo "submit.sh: $config splits into $batches shards at most; only $batches of the $tasks tasks get something to run" >&2
fi
if [ -z "$cpus" ]; then
  cpus=$(( config_threads > 0 ? config_threads : 1 ))
fi
[ "$cpus" -ge 1 ] || die "--cpus: expected >= 1"
task_flags=("${run_flags[@]}")
[ "$config_threads" -gt 0 ] || task_flags+=("--threads=$cpus")
if [ -z "$gpus" ]; then
  case "$device" in cuda*) gpus=1 ;; *) gpus=0 ;; esac
fi
[ -n "$array" ] || array="0-$(( tasks - 1 ))"

name="kvlab-$(basename "$config" .pbtxt)"
common=(--parsable --job-name="$name" --mem="$mem")
[ -z "$time_limit" ] || common+=(--time="$time_limit")
[ -z "$partition" ] || common+=(--partition="$partition")
gpu_request=()
[ "$gpus" -eq 0 ] || gpu_request=(--gpus-per-task="$gpus")

here="$(dirname "$(readlink -f "$0")")"
array_job=$(sbatch "${common[@]}" --array="$array" --cpus-per-task="$cpus" "${gpu_request[@]}" \
  --output="$logs/$name-%A_%a.out" "$here/sweep.sbatch" "$bin/run" "$config" "$tasks" "${task_flags[@]}")
array_job="${array_job%%;*}"
# afterany: the merge runs even when a task failed, and lists what is missing (a
# gathering `run` runs it, on the tasks' CPUs). It gets the tasks' flags: their threads
# are part of each run's fingerprint.
if [ "$finish" = run ]; then
  finish_command=("$bin/run" --config="$config" "${task_flags[@]}")
  finish_cpus=$cpus finish_gpus=("${gpu_request[@]}")
else
  finish_command=("$bin/merge" --config="$config" "${task_flags[@]}")
  finish_cpus=1 finish_gpus=()
fi
merge_job=$(sbatch "${common[@]}" --dependency="afterany:$array_job" --cpus-per-task="$finish_cpus" \
  "${finish_gpus[@]}" --output="$logs/$name-merge-%j.out" \
  --wrap="$(printf '%q ' "${finish_command[@]}")")
merge_job="${merge_job%%;*}"
echo "submit.sh: $config as $tasks shards (tasks $array), $cpus CPUs, $mem, $gpus GPUs per task: array job $array_job, merge job $merge_job" >&2
echo "$array_job $merge_job"
