// CUDA gather of token rows: one block per (head, kept row), threads copy bytes.
#include <cuda_runtime.h>

#include "kernels/gather_tokens_cuda.h"

namespace kvlab::kernels::cuda {

namespace {

__global__ void GatherRowsKernel(const uint8_t* __restrict__ src, int64_t src_head_stride,
                                 uint8_t* __restrict__ dst, int64_t dst_head_stride,
                                 const int64_t* __restrict__ keep, int64_t keep_head_stride,
                                 int64_t m, int64_t row_bytes) {
  const int64_t h = blockIdx.y, i = blockIdx.x;
  const uint8_t* from = src + h * src_head_stride + keep[h * keep_head_stride + i] * row_bytes;
  uint8_t* to = dst + h * dst_head_stride + i * row_bytes;
  for (int64_t b = threadIdx.x; b < row_bytes; b += blockDim.x) to[b] = from[b];
}

}  // namespace

const char* LaunchGatherRows(const uint8_t* src, int64_t src_head_stride, uint8_t* dst,
                             int64_t dst_head_stride, const int64_t* keep, int64_t keep_head_stride,
                             int64_t heads, int64_t m, int64_t row_bytes, void* stream) {
  if (heads == 0 || m == 0) return nullptr;
  const dim3 grid(static_cast<unsigned>(m), static_cast<unsigned>(heads));
  GatherRowsKernel<<<grid, 128, 0, static_cast<cudaStream_t>(stream)>>>(
      src, src_head_stride, dst, dst_head_stride, keep, keep_head_stride, m, row_bytes);
  // Launch errors (a bad configuration, no device) surface here; faults inside the
  // kernel surface at the next synchronising call.
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

}  // namespace kvlab::kernels::cuda
