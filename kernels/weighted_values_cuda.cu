// CUDA: out = weights x quantized values. Each block takes a run of tokens of one head;
// thread c owns channel c, so a warp reads consecutive bytes of one row.
#include <cuda_runtime.h>

#include <algorithm>

#include "kernels/quantized_rows_cuda.cuh"
#include "kernels/weighted_values_cuda.h"

namespace kvlab::kernels::cuda {

namespace {

constexpr int kTokensPerBlock = 128;
constexpr int kMaxQueries = 8;

__global__ void ValuesKernel(const float* __restrict__ weights, int64_t m, int64_t first_query,
                             int queries_here, QuantizedRows values, float* __restrict__ out) {
  __shared__ float w[kMaxQueries][kTokensPerBlock];
  const int64_t h = blockIdx.y;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kTokensPerBlock;
  const int64_t count = min(static_cast<int64_t>(kTokensPerBlock), values.tokens - first);
  for (int64_t i = threadIdx.x; i < queries_here * kTokensPerBlock; i += blockDim.x) {
    const int64_t query = i / kTokensPerBlock, j = i % kTokensPerBlock;
    w[query][j] = j < count ? weights[(h * m + first_query + query) * values.tokens + first + j]
                            : 0.0f;
  }
  __syncthreads();
  const int64_t c = threadIdx.x;
  if (c >= values.dim) return;
  float acc[kMaxQueries];
  for (int i = 0; i < kMaxQueries; ++i) acc[i] = 0.0f;
  for (int64_t j = 0; j < count; ++j) {
    const int64_t t = first + j;
    const float v = DequantizeAt(values, h, t, c, ScaleRowBase(values, h, t));
    for (int i = 0; i < queries_here; ++i) acc[i] += w[i][j] * v;
  }
  for (int i = 0; i < queries_here; ++i) {
    atomicAdd(&out[(h * m + first_query + i) * values.dim + c], acc[i]);
  }
}

}  // namespace

const char* LaunchWeightedValues(const float* weights, int64_t m, const QuantizedRows& values,
                                 float* out, void* stream) {
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  cudaMemsetAsync(out, 0, static_cast<size_t>(values.heads * m * values.dim) * sizeof(float), s);
  if (values.tokens == 0 || m == 0) return nullptr;
  const dim3 grid(static_cast<unsigned>((values.tokens + kTokensPerBlock - 1) / kTokensPerBlock),
                  static_cast<unsigned>(values.heads));
  // One thread per channel, rounded up to whole warps.
  const unsigned threads = static_cast<unsigned>((values.dim + 31) / 32 * 32);
  for (int64_t first = 0; first < m; first += kMaxQueries) {
    const int here = static_cast<int>(std::min<int64_t>(kMaxQueries, m - first));
    ValuesKernel<<<grid, threads, 0, s>>>(weights, m, first, here, values, out);
  }
  // Launch errors (a bad configuration, no device) surface here; faults inside the
  // kernel surface at the next synchronising call.
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

}  // namespace kvlab::kernels::cuda
