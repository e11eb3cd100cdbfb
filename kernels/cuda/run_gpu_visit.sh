#!/usr/bin/env bash
# Runs one call of a GPU visit prepared by make_gpu_visit.sh, from the root of a copy of
# the repository on a GPU machine (driver, CUDA 13, PyTorch 2.11; no Bazel, no
# network). Results go to $OUT: summary.md (every step's exit status and time),
# device.txt, the tables, and one archive with everything else.
#
#   kernels/cuda/run_gpu_visit.sh call1   carrying gpu_visit/call1: checks what arrived,
#       keeps model part 1 and the machine's boot id in $KVLAB_GPU_VISIT_STATE
#       (/tmp/kvlab-gpu-visit), then the fused decode attention checks and benchmark
#       (decode_attention.md), compute-sanitizer memcheck over the checks and the
#       per-kernel checks (cuda_kernels.md)
#   kernels/cuda/run_gpu_visit.sh call2   carrying gpu_visit/call2, on the same machine:
#       joins the model and checks its sha256, then the harness on it (e2e.md): chunked
#       (40 x 512 tokens) and streaming (1024 tokens) with one cache in fp32 weights
#       (parity with the CPU's committed perplexities) and in bf16, and sixteen caches
#       in lockstep in bf16 (speed)
#   kernels/cuda/run_gpu_visit.sh --budget call1|call2   prints the call's time table
#
# --rehearse (before call1/call2) runs the same steps on this CPU from a bundle made by
# `make_gpu_visit.sh --rehearse`: the programs that need a GPU (nvidia-smi, the CUDA
# programs, memcheck) are skipped and say so, and the harness configs run on device cpu,
# scaled down (1 chunk of 16 tokens, 4 streamed). LibTorch then comes from
# $KVLAB_TORCH_LIB.
#
# Every step runs under its own time limit, from the call's table below; a call's
# limits sum to at most 480 s (kernels/cuda/gpu_visit_test.sh checks it). A failed step
# does not stop the later ones; the call exits non-zero if any failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
me="run_gpu_visit.sh"

# Seconds per step. The harness steps' names are their config's base name and the
# weights' dtype.
declare -A call1_budget=(
  [verify]=20
  [unpack]=20
  [device]=10
  [decode_attention]=150
  [memcheck]=180
  [kernel_checks]=60
  [pack]=20
)
declare -A call2_budget=(
  [join]=20
  [unpack]=20
  [device]=10
  [gpu_chunked.fp32]=45
  [gpu_chunked.bf16]=45
  [gpu_chunked_x16.bf16]=80
  [gpu_streaming.fp32]=60
  [gpu_streaming.bf16]=60
  [gpu_streaming_x16.bf16]=90
  [pack]=20
)
# Seconds `timeout` waits after its signal before it kills a step outright.
readonly kill_after=1

die() { echo "$me: $*" >&2; exit 2; }

print_budget() {  # call
  local -n table="$1_budget"
  local name total=0
  for name in "${!table[@]}"; do echo "$name ${table[$name]}"; done | sort
  for name in "${!table[@]}"; do total=$((total + table[$name] + kill_after)); done
  echo "total $total"  # The limits and each kill's grace.
}

rehearse=0
if [ "${1:-}" = "--budget" ]; then
  case "${2:-}" in call1 | call2) print_budget "$2"; exit 0 ;; esac
  die "--budget needs call1 or call2"
fi
if [ "${1:-}" = "--rehearse" ]; then rehearse=1; shift; fi
call="${1:-}"
case "$call" in
  call1 | call2) ;;
  *) die "expected call1 or call2 (optionally after --rehearse), got '$call'" ;;
esac
carried="$root/gpu_visit/$call"
[ -f "$carried/MANIFEST.sha256" ] ||
  die "$carried/MANIFEST.sha256: missing (carry gpu_visit/$call, made by make_gpu_visit.sh)"
state="${KVLAB_GPU_VISIT_STATE:-/tmp/kvlab-gpu-visit}"
out="${OUT:-$root/gpu_visit/out-$call}"
mkdir -p "$out" "$state" || die "cannot create $out and $state"
work="$state/$call"
rm -rf "$work"
mkdir -p "$work/logs"
summary="$out/summary.md"
boot_id="$(cat /proc/sys/kernel/random/boot_id)"
{
  echo "# GPU visit, $call$([ "$rehearse" -eq 0 ] || echo " (rehearsal on the CPU)")"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), host $(hostname), boot id $boot_id"
  echo
  echo "| step | exit | seconds | limit |"
  echo "| --- | ---: | ---: | ---: |"
} >"$summary"
status=0
lib_path=""

# Runs a step (a program or one of this script's functions) under its limit from the
# call's table, its output to logs/<name>.log.
step() {  # name command...
  local -n table="${call}_budget"
  local name="$1"
  shift
  [ -n "${table[$name]:-}" ] || die "step '$name' has no time limit in ${call}_budget"
  local start=$SECONDS rc
  echo "== $name (limit ${table[$name]} s)"
  if declare -F "$1" >/dev/null; then set -- bash -c '"$@"' "$1" "$@"; fi
  timeout --kill-after="$kill_after" "${table[$name]}" "$@" >"$work/logs/$name.log" 2>&1
  rc=$?
  tail -n 3 "$work/logs/$name.log"
  echo "| $name | $rc | $((SECONDS - start)) | ${table[$name]} |" >>"$summary"
  echo "== $name: exit $rc, $((SECONDS - start)) s"
  [ "$rc" -eq 0 ] || status=1
  return "$rc"
}

skip() {  # name reason
  echo "| $1 | skipped: $2 | | |" >>"$summary"
  echo "== $1: skipped: $2"
}

# Checks the carried files whose manifest lines start with $call/.
verify() {
  grep " $call/" "$carried/MANIFEST.sha256" | (cd "$root/gpu_visit" && sha256sum --check --strict)
}

# LibTorch and the CUDA libraries: the machine's PyTorch, or $KVLAB_TORCH_LIB rehearsing.
library_path() {
  if [ "$rehearse" -eq 1 ]; then
    [ -d "${KVLAB_TORCH_LIB:-}" ] || die "--rehearse needs KVLAB_TORCH_LIB (LibTorch's torch/lib)"
    echo "$work/bundle/lib:$KVLAB_TORCH_LIB"
    return
  fi
  local python torch_lib site
  for python in "${PYTHON:-python3}" /opt/torch/.venv/bin/python3; do
    torch_lib="$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__) + "/lib")' \
      2>/dev/null)" && break
  done
  [ -d "$torch_lib" ] || die "no python3 with torch found (set PYTHON to PyTorch 2.11's python)"
  site="$(dirname "$(dirname "$torch_lib")")"
  # No empty element (it would put the working directory on the path).
  {
    echo "$work/bundle/lib"
    echo "$torch_lib"
    ls -d "$site"/nvidia/*/lib "$site"/nvidia/*/*/lib 2>/dev/null || true
  } | paste -sd:
}

device() {
  if [ "$rehearse" -eq 1 ]; then
    echo "rehearsal: no GPU; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
  else
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  fi
}

pack() {
  # Everything but the bundle and the model: logs, memcheck's report, results.
  tar -C "$work" --exclude=./bundle --exclude=./model.gguf -cf - . | xz -6 -T0 >"$out/$call.tar.xz"
}

run_call1() {
  if ! step verify verify; then
    cat "$work/logs/verify.log"
    echo "$me: what call 1 carried did not arrive whole (see above); nothing run" | tee -a "$summary"
    return 1
  fi
  # What call 2 needs from this machine: model part 1, the boot id, the manifest.
  cp "$carried/model.part1" "$carried/MANIFEST.sha256" "$state/" &&
    echo "$boot_id" >"$state/boot_id" || { echo "$me: cannot write $state" >&2; return 1; }
  step unpack bash -c "mkdir -p '$work/bundle' && xz -dc '$carried/kernels.tar.xz' | tar -C '$work/bundle' -xf -" ||
    return 1
  # Only the bundle's programs see the library path (not tar, xz, sha256sum).
  lib_path="$(library_path)" || return 1
  echo "$lib_path" | tr : '\n' >"$work/logs/library_path.txt"
  step device device
  cp "$work/logs/device.log" "$out/device.txt"
  if [ "$rehearse" -eq 1 ]; then
    skip decode_attention "needs a GPU (decode_attention_gpu is built with --config=cuda)"
    skip memcheck "needs a GPU (compute-sanitizer)"
    skip kernel_checks "needs a GPU (cuda_kernels_check is built with --config=cuda)"
  else
    local bin="$work/bundle/bin"
    step decode_attention env LD_LIBRARY_PATH="$lib_path" "$bin/decode_attention_gpu"
    cp "$work/logs/decode_attention.log" "$out/decode_attention.md"
    local sanitizer
    sanitizer="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
    step memcheck env LD_LIBRARY_PATH="$lib_path" "$sanitizer" --tool memcheck --error-exitcode 1 \
      "$bin/decode_attention_gpu" --checks_only
    step kernel_checks env LD_LIBRARY_PATH="$lib_path" "$bin/cuda_kernels_check"
    cp "$work/logs/kernel_checks.log" "$out/cuda_kernels.md"
  fi
}

# The config for a harness step: the bundle's, with the weights' dtype appended (the
# configs leave it unset); rehearsing, on the CPU and scaled down.
derive_config() {  # config dtype
  local derived="$work/configs/$1.$2.pbtxt"
  mkdir -p "$work/configs"
  if [ "$rehearse" -eq 1 ]; then
    sed -e 's/^device: "cuda"/device: "cpu"/' -e 's/n_ctx: [0-9]*/n_ctx: 16/' \
      -e 's/max_chunks: [0-9]*/max_chunks: 1/' -e 's/max_tokens: [0-9]*/max_tokens: 4/' \
      "$work/bundle/configs/$1.pbtxt" >"$derived"
    echo "min_scored_tokens: 0" >>"$derived"  # A handful of tokens: the steps, not the scores.
  else
    cp "$work/bundle/configs/$1.pbtxt" "$derived"
  fi
  echo "weights_dtype: $(echo "$2" | tr a-z A-Z)" >>"$derived"
  echo "$derived"
}

harness() {  # config dtype
  local name="$1.$2" config
  config="$(derive_config "$1" "$2")"
  step "$name" env LD_LIBRARY_PATH="$lib_path" "$work/bundle/bin/run" --config="$config" \
    --model="$work/model.gguf" --text="$work/bundle/data/wiki.test.raw" \
    --output_dir="$work/e2e/$name"
  {
    echo "## $name"
    echo
    if [ -f "$work/e2e/$name/results.md" ]; then
      cat "$work/e2e/$name/results.md"
    else
      echo "No results (exit status in summary.md; log in $call.tar.xz)."
    fi
    echo
  } >>"$out/e2e.md"
}

# The dense cache's perplexity in fp32 weights against the CPU's committed result for
# the same protocol (the first cache in both results.json).
parity() {  # run committed_results_json
  local got want
  got="$(grep -m1 '"perplexity"' "$work/e2e/$1/results.json" 2>/dev/null | grep -oE '[0-9.]+')"
  want="$(grep -m1 '"perplexity"' "$root/$2" | grep -oE '[0-9.]+')"
  if [ -z "$got" ] || [ -z "$want" ]; then
    echo "| $1 | ${got:-none} | ${want:-none} | |"
  else
    awk -v run="$1" -v got="$got" -v want="$want" \
      'BEGIN { printf "| %s | %.4f | %.4f | %+.4f%% |\n", run, got, want, 100 * (got - want) / want }'
  fi
}

run_call2() {
  # Model part 1 and the boot id stay on the machine from call 1; a replaced machine
  # has neither (or another boot id).
  if [ ! -f "$state/boot_id" ] || [ ! -f "$state/model.part1" ]; then
    echo "$me: the machine was replaced since call 1 ($state is empty): run call 1 again, then call 2" |
      tee -a "$summary" >&2
    return 3
  fi
  if [ "$(cat "$state/boot_id")" != "$boot_id" ]; then
    echo "$me: the machine was replaced since call 1 (boot id $(cat "$state/boot_id"), now $boot_id): run call 1 again, then call 2" |
      tee -a "$summary" >&2
    return 3
  fi
  if ! cmp -s "$state/MANIFEST.sha256" "$carried/MANIFEST.sha256"; then
    echo "$me: call 2 carries another bundle's manifest than call 1's: make both calls from one make_gpu_visit.sh" |
      tee -a "$summary" >&2
    return 3
  fi
  step join bash -c "cd '$root/gpu_visit' && grep ' $call/' call2/MANIFEST.sha256 |
      sha256sum --check --strict &&
    cat '$state/model.part1' call2/model.part2 >'$work/model.gguf' &&
    echo \"\$(grep ' model.gguf\$' call2/MANIFEST.sha256 | cut -d' ' -f1)  $work/model.gguf\" |
      sha256sum --check --strict" || return 1
  step unpack bash -c "mkdir -p '$work/bundle' && xz -dc '$carried/harness.tar.xz' | tar -C '$work/bundle' -xf -" ||
    return 1
  # Only the bundle's programs see the library path (not tar, xz, sha256sum).
  lib_path="$(library_path)" || return 1
  echo "$lib_path" | tr : '\n' >"$work/logs/library_path.txt"
  step device device
  cp "$work/logs/device.log" "$out/device.txt"
  : >"$out/e2e.md"
  harness gpu_chunked fp32
  harness gpu_chunked bf16
  harness gpu_chunked_x16 bf16
  harness gpu_streaming fp32
  harness gpu_streaming bf16
  harness gpu_streaming_x16 bf16
  {
    echo
    echo "Parity with the CPU: the dense cache in fp32 weights$([ "$rehearse" -eq 0 ] ||
      echo " (rehearsal: scaled down, so not comparable)")"
    echo
    echo "| run | perplexity | CPU (committed) | difference |"
    echo "| --- | ---: | ---: | ---: |"
    parity gpu_chunked.fp32 docs/results/baseline/results.json
    parity gpu_streaming.fp32 docs/results/baseline_streaming/results.json
  } >"$work/parity.md"
}

# What the steps' functions (run by `timeout` in a bash of their own) read.
export root call carried work out rehearse
export -f verify device pack
"run_$call"
rc=$?
[ "$rc" -eq 0 ] || status=$rc
if [ "$rc" -eq 3 ]; then exit 3; fi  # Stopped before anything ran (machine replaced).
step pack pack
[ ! -f "$work/parity.md" ] || cat "$work/parity.md" >>"$summary"
echo >>"$summary"
echo "exit $status" >>"$summary"
cat "$summary"
exit "$status"
