#!/usr/bin/env bash
# The Slurm test: on a single-node Slurm started here (local_cluster.sh), runs the
# sweep experiments/slurm/smoke.pbtxt (8 caches in 4 lockstep batches, default model)
# as a 3-task job array plus the dependent merge (submit.sh), and checks that
#   1. killing an array task with SIGKILL in the middle of its second batch and
#      resubmitting it completes the sweep without redoing the batch it had finished
#      (the task is a shard with two batches or more, as `run --plan` lists them: which
#      shard a batch goes to is a hash of its run names, shard.h);
#   2. the merged results equal those of the same config run in one process, run for
#      run, to the last bit (same_runs; wall-clock time aside);
#   3. a RULER config (ruler_smoke.pbtxt), whose samples shards split, submitted with
#      only one of its two shards: the finishing `run` reads that shard's samples back,
#      runs the rest, and its results equal a single-process run's.
# Stops the daemons it started and removes its files, pass or fail. Needs root, and
# the default model where `run` finds it (third_party/setup.sh). Flags are passed on to
# `run` and `merge`, e.g. --text=/path/to/wiki.test.raw.
#
#   experiments/slurm/slurm_test.sh [run flags...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
slurm=experiments/slurm
config=$slurm/smoke.pbtxt

fail() { echo "slurm_test: FAILED: $*" >&2; exit 1; }
step() { echo "slurm_test: $*" >&2; }

work=$(mktemp -d /tmp/kvlab-slurm-test.XXXXXX)
cluster="$work/cluster"
cleanup() {
  if [ -f "$cluster/slurm.conf" ]; then
    SLURM_CONF="$cluster/slurm.conf" scancel --quiet --jobname=kvlab-smoke,kvlab-ruler_smoke 2>/dev/null || true
    "$slurm/local_cluster.sh" stop "$cluster" || true
  fi
  if [ "${KEEP_SLURM_TEST_FILES:-0}" = 1 ]; then
    echo "slurm_test: files kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

step "building run, merge and same_runs"
bazel build //experiments:run //experiments:merge //experiments/slurm:same_runs >/dev/null 2>&1 ||
  fail "bazel build //experiments:run //experiments:merge //experiments/slurm:same_runs"
bin=bazel-bin/experiments

# The shard to kill: the first of 3 with at least two lockstep batches (4 batches over 3
# shards: one has), and its first two batches' runs, in the order it runs them.
victim="" shard_runs=0
for shard in 0 1 2; do
  mapfile -t batches < <("$bin/run" --config="$config" --plan --shard="$shard/3" "$@" | tail -n +2)
  if [ "${#batches[@]}" -ge 2 ]; then
    victim=$shard
    read -r -a first_batch <<<"${batches[0]}"
    read -r -a second_batch <<<"${batches[1]}"
    for batch in "${batches[@]}"; do
      read -r -a runs <<<"$batch"
      shard_runs=$(( shard_runs + ${#runs[@]} ))
    done
    break
  fi
done
[ -n "$victim" ] || fail "run --plan gave no shard of 3 two lockstep batches"
[ "${#first_batch[@]}" -eq 2 ] && [ "${#second_batch[@]}" -eq 2 ] ||
  fail "expected lockstep pairs, got '${first_batch[*]}' and '${second_batch[*]}'"
step "shard $victim of 3 runs $shard_runs runs; first ${first_batch[*]}, then ${second_batch[*]}"

step "single process: $config"
"$bin/run" --config="$config" --output_dir="$work/single" "$@" >"$work/single.out" 2>"$work/single.log" ||
  { cat "$work/single.log" >&2; fail "the single-process run"; }

"$slurm/local_cluster.sh" install
cluster_env=$("$slurm/local_cluster.sh" start "$cluster") || fail "the single-node cluster did not start"
eval "$cluster_env"

wait_for_job() {  # job id, seconds
  local deadline=$(( SECONDS + $2 ))
  while [ -n "$(squeue -h -j "$1" 2>/dev/null)" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "job $1 still queued or running after $2 s"
    sleep 1
  done
}
wait_for_file() {  # path, seconds
  local deadline=$(( SECONDS + $2 ))
  until [ -e "$1" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$1 did not appear within $2 s"
    sleep 0.2
  done
}

sharded="$work/sharded"
logs="$work/logs"
step "job array of 3 shards and a merge job"
read -r array_job merge_job < <("$slurm/submit.sh" --config="$config" --tasks=3 --mem=2G --logs="$logs" \
  -- --output_dir="$sharded" "$@")
[ -n "$merge_job" ] || fail "submit.sh printed no job ids"

# The shard finishes its first batch, claims its second, and dies in the middle of it.
for name in "${first_batch[@]}"; do wait_for_file "$sharded/runs/$name.json" 600; done
wait_for_file "$sharded/runs/${second_batch[0]}.lock" 120
sleep 2
# SIGKILL, from outside Slurm (scancel would send SIGTERM first, on which `run` releases
# its locks): the locks stay behind, and the resubmitted task must find them stale.
owner=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$sharded/runs/${second_batch[0]}.lock")
[ -n "$owner" ] || fail "no pid in $sharded/runs/${second_batch[0]}.lock"
step "killing shard $victim (pid $owner, SIGKILL) in the middle of its second batch"
kill -KILL "$owner"
wait_for_job "$array_job" 600
wait_for_job "$merge_job" 120
for name in "${second_batch[@]}"; do
  [ ! -e "$sharded/runs/$name.json" ] || fail "$name finished although its shard was killed"
done
[ -e "$sharded/runs/${second_batch[0]}.lock" ] || fail "SIGKILL left no stale lock to take over"
grep -q "missing $(( shard_runs - 2 )): ${second_batch[0]} (its process, .* is gone), ${second_batch[1]}" \
  "$logs/kvlab-smoke-merge-$merge_job.out" ||
  { cat "$logs/kvlab-smoke-merge-$merge_job.out" >&2; fail "the merge after the kill did not report the two missing runs"; }
finished_before=$(stat -c '%n %Y' "$sharded"/runs/*.json)

step "resubmitting shard $victim"
read -r array_job merge_job < <("$slurm/submit.sh" --config="$config" --tasks=3 --mem=2G --logs="$logs" --array="$victim" \
  -- --output_dir="$sharded" "$@")
wait_for_job "$array_job" 600
wait_for_job "$merge_job" 120
grep -q "2 of $shard_runs runs already finished" "$logs/kvlab-smoke-${array_job}_${victim}.out" ||
  fail "the resubmitted shard did not resume ($logs/kvlab-smoke-${array_job}_${victim}.out)"
grep -q "merged 8 of 8 runs" "$logs/kvlab-smoke-merge-$merge_job.out" ||
  { cat "$logs/kvlab-smoke-merge-$merge_job.out" >&2; fail "the merge after the resubmission is incomplete"; }
while read -r file mtime; do
  [ "$(stat -c '%Y' "$file")" = "$mtime" ] || fail "$file was written again"
done <<<"$finished_before"
[ -z "$(ls "$sharded"/runs/*.lock 2>/dev/null)" ] || fail "lock files left behind: $(ls "$sharded"/runs/*.lock)"

step "comparing the merged results with the single-process run"
bazel-bin/experiments/slurm/same_runs "$work/single/results.json" "$sharded/results.json" >&2 ||
  fail "sharded and single-process results differ"

# RULER splits samples, not batches: shard 0 of 2 runs its sample indices (0 and 2) of
# the one batch; shard 1 is never submitted, as if its task had failed; the finishing
# `run` reads shard 0's samples back, runs shard 1's itself and writes the runs.
ruler_config=$slurm/ruler_smoke.pbtxt
read -r ruler_shards _ _ ruler_finish < <("$bin/run" --config="$ruler_config" --plan "$@")
[ "$ruler_shards $ruler_finish" = "4 run" ] ||
  fail "run --plan: expected 4 sample groups finished by run, got '$ruler_shards $ruler_finish'"
step "RULER single process: $ruler_config"
"$bin/run" --config="$ruler_config" --output_dir="$work/ruler_single" "$@" >"$work/ruler_single.out" \
  2>"$work/ruler_single.log" || { cat "$work/ruler_single.log" >&2; fail "the single-process RULER run"; }
ruler_sharded="$work/ruler_sharded"
step "RULER: shard 0 of 2 only, then the gathering run"
read -r array_job finish_job < <("$slurm/submit.sh" --config="$ruler_config" --tasks=2 --array=0 --mem=2G \
  --logs="$logs" -- --output_dir="$ruler_sharded" "$@")
[ -n "$finish_job" ] || fail "submit.sh printed no job ids for $ruler_config"
wait_for_job "$array_job" 600
wait_for_job "$finish_job" 600
finish_log="$logs/kvlab-ruler_smoke-merge-$finish_job.out"
[ -f "$ruler_sharded/results.json" ] || { cat "$finish_log" >&2; fail "the gathering run wrote no results"; }
for run in dense window-128; do
  grep -q '"resumed_samples": *2' "$ruler_sharded/runs/$run.json" ||
    fail "$run: the gathering run did not read shard 0's 2 samples back"
done
[ -z "$(ls "$ruler_sharded"/runs/*.progress.* 2>/dev/null)" ] ||
  fail "progress files left behind: $(ls "$ruler_sharded"/runs/*.progress.*)"
bazel-bin/experiments/slurm/same_runs "$work/ruler_single/results.json" "$ruler_sharded/results.json" >&2 ||
  fail "sample-sharded and single-process RULER results differ"
echo "slurm_test: PASSED (3-task array, kill and resubmit, merge equals the single-process run; RULER's samples sharded and gathered equal the single-process run)" >&2
