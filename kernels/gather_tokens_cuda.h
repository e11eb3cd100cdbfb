// CUDA launcher behind gather_tokens.h (raw pointers; no ATen).
#ifndef KVLAB_KERNELS_GATHER_TOKENS_CUDA_H_
#define KVLAB_KERNELS_GATHER_TOKENS_CUDA_H_

#include <cstdint>

namespace kvlab::kernels::cuda {

// dst row i of head h = src row keep[h * keep_head_stride + i] of head h, for m rows of
// row_bytes bytes; head strides in bytes.
// Issues the work on `stream` (a cudaStream_t; nullptr: the default stream) and
// returns nullptr, or the launch error's text.
const char* LaunchGatherRows(const uint8_t* src, int64_t src_head_stride, uint8_t* dst,
                             int64_t dst_head_stride, const int64_t* keep, int64_t keep_head_stride,
                             int64_t heads, int64_t m, int64_t row_bytes, void* stream);

}  // namespace kvlab::kernels::cuda

#endif  // KVLAB_KERNELS_GATHER_TOKENS_CUDA_H_
