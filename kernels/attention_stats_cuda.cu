// CUDA accumulation of attention statistics: one thread per (head, token).
#include <cuda_runtime.h>

#include "kernels/attention_stats_cuda.h"

namespace kvlab::kernels::cuda {

namespace {

__global__ void AccumulateKernel(const float* __restrict__ probs, int64_t group, int64_t queries,
                                 int64_t length, float* __restrict__ sums,
                                 int64_t sums_head_stride) {
  const int64_t h = blockIdx.y;
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= length) return;
  float total = 0.0f;
  for (int64_t row = 0; row < group * queries; ++row) {
    total += probs[(h * group * queries + row) * length + t];
  }
  sums[h * sums_head_stride + t] += total / static_cast<float>(group);
}

}  // namespace

const char* LaunchAccumulateAttention(const float* probs, int64_t heads, int64_t group,
                                      int64_t queries, int64_t length, float* sums,
                                      int64_t sums_head_stride, void* stream) {
  if (heads == 0 || length == 0) return nullptr;
  const dim3 grid(static_cast<unsigned>((length + 255) / 256), static_cast<unsigned>(heads));
  AccumulateKernel<<<grid, 256, 0, static_cast<cudaStream_t>(stream)>>>(
      probs, group, queries, length, sums, sums_head_stride);
  // Launch errors (a bad configuration, no device) surface here; faults inside the
  // kernel surface at the next synchronising call.
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

}  // namespace kvlab::kernels::cuda
