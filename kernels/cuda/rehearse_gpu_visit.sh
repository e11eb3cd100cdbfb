#!/usr/bin/env bash
# Rehearses a GPU visit on this CPU, so that everything but the GPU itself has run
# before a GPU machine is borrowed: makes a CPU bundle (make_gpu_visit.sh --rehearse),
# copies the tracked tree as a visit would, and runs both calls of run_gpu_visit.sh
# --rehearse there in a clean environment (`env -i`; the library path holds only the
# bundle's lib folder and LibTorch's torch/lib). Then checks what came back (at most
# eight files in each call's $OUT, each step's exit status in its summary) and that a
# damaged carry and a replaced machine are refused. A few minutes on 2 cores (7 on a busy
# machine), most of it the harness steps.
#
#   kernels/cuda/rehearse_gpu_visit.sh       (exit 0 when every check passed)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
me="rehearse_gpu_visit.sh"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
torch_lib="$(readlink -f "$root/third_party/libtorch/torch/lib")"
failures=0
fail() { echo "$me: FAILED: $*" >&2; failures=$((failures + 1)); }

"$root/kernels/cuda/make_gpu_visit.sh" --rehearse "$scratch/bundle" ||
  { echo "$me: FAILED: make_gpu_visit.sh --rehearse" >&2; exit 1; }

# A visit's copy of the repository: tracked files and those git does not ignore, plus
# the call's carried folder (call 2's copy has no call1/, as on a fresh copy).
machine_copy() {  # dir call
  rm -rf "$1"
  mkdir -p "$1/gpu_visit"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 tar -cf - 2>/dev/null) | tar -C "$1" -xf -
  cp -r "$scratch/bundle/$2" "$1/gpu_visit/"
}

visit() {  # copy call state out
  mkdir -p "$4"
  (cd "$1" && env -i PATH=/usr/bin:/bin HOME="$scratch" OUT="$4" KVLAB_GPU_VISIT_STATE="$3" \
    KVLAB_TORCH_LIB="$torch_lib" kernels/cuda/run_gpu_visit.sh --rehearse "$2")
}

# What came back: at most eight plain files, all small but the archive, and a summary
# row with an exit status for every step of the call's table.
check_out() {  # out call
  local files
  files=$(find "$1" -mindepth 1 | wc -l)
  [ "$files" -le 8 ] || fail "$2 left $files entries under \$OUT (at most 8)"
  [ -z "$(find "$1" -mindepth 1 -type d)" ] || fail "$2 left folders under \$OUT"
  [ -f "$1/$2.tar.xz" ] || fail "$2 left no archive $2.tar.xz"
  [ -z "$(find "$1" -type f ! -name '*.tar.xz' -size +256k)" ] ||
    fail "$2 left a file over 256 KiB beside its archive"
  local name
  while read -r name _; do
    [ "$name" = total ] && continue
    grep -qE "^\| $name \| (-?[0-9]+|skipped: .*) \|" "$1/summary.md" ||
      fail "$2's summary has no exit status for step $name"
  done < <("$root/kernels/cuda/run_gpu_visit.sh" --budget "$2")
}

state="$scratch/state"
machine_copy "$scratch/copy" call1
if visit "$scratch/copy" call1 "$state" "$scratch/out1"; then
  check_out "$scratch/out1" call1
else
  fail "call1 exited non-zero"
fi

machine_copy "$scratch/copy" call2
if visit "$scratch/copy" call2 "$state" "$scratch/out2"; then
  check_out "$scratch/out2" call2
  runs=$(grep -c '^## ' "$scratch/out2/e2e.md")
  tables=$(grep -c '^| dense-fp32' "$scratch/out2/e2e.md")
  [ "$runs" -eq 6 ] && [ "$tables" -eq 6 ] ||
    fail "call2's e2e.md has $runs runs and $tables dense-fp32 rows (expected 6 and 6)"
else
  fail "call2 exited non-zero"
fi

# A replaced machine: call 2 without call 1's state says so and stops.
visit "$scratch/copy" call2 "$scratch/fresh-state" "$scratch/out-replaced" >"$scratch/replaced.log" 2>&1
rc=$?
[ "$rc" -eq 3 ] && grep -q "machine was replaced" "$scratch/replaced.log" ||
  fail "call2 on a replaced machine exited $rc without saying so"

# A damaged carry: call 1 refuses to run.
machine_copy "$scratch/copy" call1
printf 'x' | dd of="$scratch/copy/gpu_visit/call1/model.part1" bs=1 seek=1000 conv=notrunc 2>/dev/null
visit "$scratch/copy" call1 "$scratch/damaged-state" "$scratch/out-damaged" >"$scratch/damaged.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -q "did not arrive whole" "$scratch/damaged.log" ||
  fail "call1 with a damaged model part exited $rc without saying so"

if [ "$failures" -eq 0 ]; then
  echo "$me: PASSED (both calls rehearsed; damaged carry and replaced machine refused)"
else
  echo "$me: $failures check(s) failed" >&2
  exit 1
fi
