// Device helpers for reading QuantizedRows in CUDA kernels. Internal to kernels/.
#ifndef KVLAB_KERNELS_QUANTIZED_ROWS_CUDA_CUH_
#define KVLAB_KERNELS_QUANTIZED_ROWS_CUDA_CUH_

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/quantized_rows.h"

namespace kvlab::kernels::cuda {

__device__ __forceinline__ float LoadScale(const void* base, int64_t index, ScaleType type) {
  switch (type) {
    case ScaleType::kBFloat16:
      return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[index]);
    case ScaleType::kFloat16:
      return __half2float(static_cast<const __half*>(base)[index]);
    default:
      return static_cast<const float*>(base)[index];
  }
}

// Index of the scale row that token t of head h reads.
__device__ __forceinline__ int64_t ScaleRowBase(const QuantizedRows& rows, int64_t h, int64_t t) {
  if (rows.floats != nullptr) return 0;
  const int64_t row = rows.block_of == nullptr
                          ? t
                          : rows.block_of[h * rows.block_head_stride + t * rows.block_row_stride];
  return h * rows.scale_head_stride + row * rows.scale_row_stride;
}

// Level of channel c in a row (4-bit: two per byte, even channel in the low nibble).
__device__ __forceinline__ int LevelAt(const uint8_t* row, int bits, int64_t c) {
  return bits == 8 ? row[c] : (row[c >> 1] >> ((c & 1) * 4)) & 0x0F;
}

// Channel c of token t of head h, dequantized.
__device__ __forceinline__ float DequantizeAt(const QuantizedRows& rows, int64_t h, int64_t t,
                                              int64_t c, int64_t scale_base) {
  if (rows.floats != nullptr) {
    return rows.floats[h * rows.floats_head_stride + t * rows.floats_row_stride + c];
  }
  const uint8_t* row = rows.levels + h * rows.levels_head_stride + t * rows.levels_row_stride;
  const int64_t g = scale_base + c / rows.group;
  float x = static_cast<float>(LevelAt(row, rows.bits, c) - rows.offset) *
            LoadScale(rows.scale, g, rows.scale_type);
  if (rows.zero != nullptr) x += LoadScale(rows.zero, g, rows.scale_type);
  return x;
}

}  // namespace kvlab::kernels::cuda

#endif  // KVLAB_KERNELS_QUANTIZED_ROWS_CUDA_CUH_
