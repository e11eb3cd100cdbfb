// QuantizedRows: a raw description of quantized cache rows, shared by the CPU and CUDA
// kernels (no ATen here, so .cu files include it).
//
// Row t of head h holds `dim` levels at levels + h * levels_head_stride + t *
// levels_row_stride, read back as (level - offset) * scale + zero. Channel c of the row
// takes its scale and zero from element c / group of a scale row, which is row t for
// per-token groups (block_of == nullptr) and row block_of[h, t] for per-channel blocks
// (group == 1). Strides count elements of their arrays.
//
// Dense rows use the same kernels: with `floats` set, row t of head h is the fp32
// values at floats + h * floats_head_stride + t * floats_row_stride, and the level,
// scale and block fields are unused.
#ifndef KVLAB_KERNELS_QUANTIZED_ROWS_H_
#define KVLAB_KERNELS_QUANTIZED_ROWS_H_

#include <cstdint>

namespace kvlab::kernels {

enum class ScaleType : int { kFloat32 = 0, kBFloat16 = 1, kFloat16 = 2 };

struct QuantizedRows {
  const float* floats = nullptr;  // Dense fp32 rows instead of levels.
  int64_t floats_head_stride = 0;
  int64_t floats_row_stride = 0;
  const uint8_t* levels = nullptr;
  int64_t levels_head_stride = 0;
  int64_t levels_row_stride = 0;
  const void* scale = nullptr;
  const void* zero = nullptr;  // nullptr: symmetric, no zero point
  ScaleType scale_type = ScaleType::kFloat32;
  int64_t scale_head_stride = 0;
  int64_t scale_row_stride = 0;
  const int64_t* block_of = nullptr;  // nullptr: per-token groups
  int64_t block_head_stride = 0;
  int64_t block_row_stride = 0;
  int bits = 8;
  int offset = 0;
  int64_t dim = 0;
  int64_t group = 0;
  int64_t heads = 0;
  int64_t tokens = 0;
};

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_QUANTIZED_ROWS_H_
