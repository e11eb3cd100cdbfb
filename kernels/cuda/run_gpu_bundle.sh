#!/usr/bin/env bash
# Runs kvlab's GPU checks, benchmark and end-to-end harness from a bundle made by
# make_gpu_bundle.sh, on a machine with an NVIDIA GPU and PyTorch 2.11 for CUDA 13 (no
# Bazel, no network needed). One command, under 10 minutes on an H200:
#
#   gpu_bundle/run_gpu_bundle.sh --model SmolLM2-135M-Instruct.Q4_1.gguf \
#       --text wiki.test.raw [--out DIR] [--python PYTHON]
#
# 1. the fused decode attention checks (fp64 reference) and benchmark beside PyTorch's
#    scaled_dot_product_attention over fp16 and bf16 caches (decode_attention.md);
# 2. compute-sanitizer memcheck over the same checks (memcheck.txt);
# 3. the older per-kernel checks (cuda_kernels.md);
# 4. the harness on the model: chunked baseline, then 1024-token streaming with a dense,
#    an H2O and an int4 cache, tokens/s in each (e2e_*.txt, e2e/*/results.json).
# Exits non-zero if any step fails; later steps run regardless.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
model="" text="" out="${OUT:-$PWD/gpu_results}" python="${PYTHON:-python3}"
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --text) text="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    *) echo "run_gpu_bundle.sh: unknown argument '$1' (expected --model, --text, --out, --python)" >&2; exit 2 ;;
  esac
done
if [ ! -f "$model" ] || [ ! -f "$text" ]; then
  echo "run_gpu_bundle.sh: --model '$model' and --text '$text' must name existing files" >&2
  exit 2
fi
torch_lib="$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__) + "/lib")')" || {
  echo "run_gpu_bundle.sh: $python cannot import torch; pass --python with PyTorch 2.11" >&2
  exit 2
}
site="$(dirname "$(dirname "$torch_lib")")"
nvidia_libs="$(ls -d "$site"/nvidia/*/lib "$site"/nvidia/*/*/lib 2>/dev/null | tr '\n' ':')"
export LD_LIBRARY_PATH="$here/lib:$torch_lib:$nvidia_libs${LD_LIBRARY_PATH:-}"
mkdir -p "$out"
status=0
step() {  # name, log, command...
  local name="$1" log="$2"
  shift 2
  echo "== $name" | tee -a "$out/summary.txt"
  local start=$SECONDS
  "$@" 2>&1 | tee "$out/$log"
  local rc=${PIPESTATUS[0]}
  echo "== $name: exit $rc, $((SECONDS - start)) s" | tee -a "$out/summary.txt"
  [ "$rc" -eq 0 ] || status=1
}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/device.txt"
step "decode attention checks and benchmark" decode_attention.md \
  timeout 120 "$here/bin/decode_attention_gpu"
sanitizer="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
if [ -x "$sanitizer" ]; then
  step "compute-sanitizer memcheck" memcheck.txt timeout 120 "$sanitizer" --tool memcheck \
    --error-exitcode 1 "$here/bin/decode_attention_gpu" --checks_only
else
  echo "== compute-sanitizer not found: memcheck skipped" | tee -a "$out/summary.txt"
fi
step "per-kernel checks" cuda_kernels.md timeout 60 "$here/bin/cuda_kernels_check"
# Time limits sum to 580 s: the whole script ends inside 10 minutes.
step "harness gpu_chunked" e2e_gpu_chunked.txt timeout 100 "$here/bin/run" \
  --config="$here/configs/gpu_chunked.pbtxt" --model="$model" --text="$text" \
  --output_dir="$out/e2e/gpu_chunked"
step "harness gpu_streaming" e2e_gpu_streaming.txt timeout 180 "$here/bin/run" \
  --config="$here/configs/gpu_streaming.pbtxt" --model="$model" --text="$text" \
  --output_dir="$out/e2e/gpu_streaming"
exit $status
