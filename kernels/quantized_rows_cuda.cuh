// Device helpers for reading QuantizedRows in CUDA kernels. Internal to kernels/.
#ifndef KVLAB_KERNELS_QUANTIZED_ROWS_CUDA_CUH_
#define KVLAB_KERNELS_QUANTIZED_ROWS_CUDA_CUH_

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/quantized_rows.h"

namespace kvlab::kernels::cuda {

__device__ __forceinline__ float LoadScale(const void* base, int64_t index, Encoding type) {
  switch (type) {
    case Encoding::kBFloat16:
      return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[index]);
    case Encoding::kFloat16:
      return __half2float(static_cast<const __half*>(base)[index]);
    default:
      return static_cast<const float*>(base)[index];
  }
}

// Where the scale row that token t of head h reads starts (0 for dense rows).
__device__ __forceinline__ int64_t ScaleRowBase(const QuantizedRows& rows, int64_t h, int64_t t) {
  return IsQuantized(rows.encoding) ? rows.ScaleRowStart(h, t) : 0;
}

// Level of channel c in a row (4-bit: two per byte, even channel in the low nibble).
__device__ __forceinline__ int LevelAt(const uint8_t* row, int bits, int64_t c) {
  return bits == 8 ? row[c] : (row[c >> 1] >> ((c & 1) * 4)) & 0x0F;
}

// Channel c of token t of head h, dequantized (dense rows: fp32 only).
__device__ __forceinline__ float DequantizeAt(const QuantizedRows& rows, int64_t h, int64_t t,
                                              int64_t c, int64_t scale_base) {
  const uint8_t* row = rows.Row(h, t);
  if (!IsQuantized(rows.encoding)) return reinterpret_cast<const float*>(row)[c];
  const int64_t g = scale_base + c / rows.group;
  float x = static_cast<float>(LevelAt(row, BitsOf(rows.encoding), c) - rows.offset) *
            LoadScale(rows.scale, g, rows.scale_encoding);
  if (rows.zero != nullptr) x += LoadScale(rows.zero, g, rows.scale_encoding);
  return x;
}

}  // namespace kvlab::kernels::cuda

#endif  // KVLAB_KERNELS_QUANTIZED_ROWS_CUDA_CUH_
