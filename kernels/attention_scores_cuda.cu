// CUDA: scores = queries x quantized keys^T, one thread per token, dequantizing in
// registers as it reads.
#include <cuda_runtime.h>

#include <algorithm>

#include "kernels/attention_scores_cuda.h"
#include "kernels/quantized_rows_cuda.cuh"

namespace kvlab::kernels::cuda {

namespace {

constexpr int kThreads = 128;
// Queries handled per launch, held in registers per thread.
constexpr int kMaxQueries = 8;

__global__ void ScoresKernel(const float* __restrict__ queries, int64_t m, int64_t first_query,
                             int queries_here, QuantizedRows keys, float* __restrict__ scores) {
  extern __shared__ float q[];  // [queries_here, dim]
  const int64_t h = blockIdx.y;
  const int64_t dim = keys.dim;
  for (int64_t i = threadIdx.x; i < queries_here * dim; i += blockDim.x) {
    q[i] = queries[(h * m + first_query) * dim + i];
  }
  __syncthreads();
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= keys.tokens) return;
  const int64_t scale_base = ScaleRowBase(keys, h, t);
  float acc[kMaxQueries];
  for (int i = 0; i < kMaxQueries; ++i) acc[i] = 0.0f;
  for (int64_t c = 0; c < dim; ++c) {
    const float k = DequantizeAt(keys, h, t, c, scale_base);
    for (int i = 0; i < queries_here; ++i) acc[i] += q[i * dim + c] * k;
  }
  for (int i = 0; i < queries_here; ++i) {
    scores[(h * m + first_query + i) * keys.tokens + t] = acc[i];
  }
}

}  // namespace

const char* LaunchAttentionScores(const float* queries, int64_t m, const QuantizedRows& keys,
                                  float* scores, void* stream) {
  if (keys.tokens == 0 || m == 0) return nullptr;
  const dim3 grid(static_cast<unsigned>((keys.tokens + kThreads - 1) / kThreads),
                  static_cast<unsigned>(keys.heads));
  for (int64_t first = 0; first < m; first += kMaxQueries) {
    const int here = static_cast<int>(std::min<int64_t>(kMaxQueries, m - first));
    const size_t shared = static_cast<size_t>(here) * keys.dim * sizeof(float);
    ScoresKernel<<<grid, kThreads, shared, static_cast<cudaStream_t>(stream)>>>(
        queries, m, first, here, keys, scores);
  }
  // Launch errors (a bad configuration, no device) surface here; faults inside the
  // kernel surface at the next synchronising call.
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

}  // namespace kvlab::kernels::cuda
