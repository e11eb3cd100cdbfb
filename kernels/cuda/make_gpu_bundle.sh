#!/usr/bin/env bash
# Builds the CUDA configuration here and packs what a GPU machine needs to run kvlab's
# GPU checks, benchmark and end-to-end harness with run_gpu_bundle.sh. The binaries
# load LibTorch and the CUDA libraries from that machine's PyTorch; the bundle carries
# only the other shared libraries they need (Abseil, protobuf, ICU, ...), stripped.
#
#   kernels/cuda/make_gpu_bundle.sh [DIR]     (default: gpu_bundle/, ignored by git)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/gpu_bundle}"
cd "$root"
targets=(//kernels/cuda:decode_attention_gpu //kernels/cuda:cuda_kernels_check //experiments:run)
bazel build --config=cuda "${targets[@]}"
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/configs"
for target in "${targets[@]}"; do
  path="bazel-bin/$(echo "${target#//}" | tr ':' '/')"
  install -m 755 "$path" "$out/bin/"
  strip --strip-unneeded "$out/bin/$(basename "$path")"
done
# Shared libraries that resolve here outside LibTorch's and the CUDA toolkit's folders,
# less the C runtime, which every Linux machine has (in a newer version on the GPU
# machines).
for binary in "$out"/bin/*; do
  ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r name path; do
  case "$name" in
    ld-linux* | libc.so* | libm.so* | libdl.so* | librt.so* | libpthread.so* | \
      libstdc++.so* | libgcc_s.so*) continue ;;
    libcudart.so*) continue ;;  # PyTorch's own, beside it in nvidia/cu13/lib.
  esac
  case "$(readlink -f "$path")" in
    "$(readlink -f third_party/libtorch)"/* | /usr/local/cuda*) continue ;;
  esac
  install -m 644 "$(readlink -f "$path")" "$out/lib/$name"
  strip --strip-unneeded "$out/lib/$name"
done
cp experiments/configs/gpu_chunked.pbtxt experiments/configs/gpu_streaming.pbtxt "$out/configs/"
install -m 755 kernels/cuda/run_gpu_bundle.sh "$out/"
du -sh "$out"
