#!/usr/bin/env bash
# Builds and runs the CUDA kernels' checks and benchmarks on a machine with an NVIDIA
# GPU, nvcc, CMake and Ninja, and prints the table (also written to $OUT if set).
#
#   kernels/cuda/run_on_gpu.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${TMPDIR:-/tmp}/kvlab-cuda-build"
nvcc="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)"
cmake -S "$root/kernels/cuda" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_COMPILER="$nvcc" >/dev/null
cmake --build "$build" >/dev/null
if [ -n "${OUT:-}" ]; then
  "$build/cuda_kernels_check" | tee "$OUT/cuda_kernels.md"
else
  "$build/cuda_kernels_check"
fi
