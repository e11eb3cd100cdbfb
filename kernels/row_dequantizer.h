// Dequantizes one stored row into a small fp32 scratch: the CPU kernels' shared inner
// step. The scratch lives for one row; no dequantized copy of the cache exists.
// Internal to kernels/.
#ifndef KVLAB_KERNELS_ROW_DEQUANTIZER_H_
#define KVLAB_KERNELS_ROW_DEQUANTIZER_H_

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <cstdint>

#include "kernels/quantized_rows.h"

namespace kvlab::kernels::internal {

template <ScaleType kType>
struct ScaleStorage;
template <>
struct ScaleStorage<ScaleType::kFloat32> { using type = float; };
template <>
struct ScaleStorage<ScaleType::kBFloat16> { using type = c10::BFloat16; };
template <>
struct ScaleStorage<ScaleType::kFloat16> { using type = c10::Half; };

// Returns row (h, t) of `rows` as rows.dim floats: dense rows in place, quantized ones
// dequantized into `scratch`.
template <ScaleType kType>
inline const float* DequantizeRow(const QuantizedRows& rows, int64_t h, int64_t t,
                                  float* scratch) {
  using S = typename ScaleStorage<kType>::type;
  const int64_t dim = rows.dim;
  if (rows.floats != nullptr) {
    return rows.floats + h * rows.floats_head_stride + t * rows.floats_row_stride;
  }
  float* out = scratch;
  const uint8_t* row = rows.levels + h * rows.levels_head_stride + t * rows.levels_row_stride;
  const float offset = static_cast<float>(rows.offset);
  if (rows.bits == 8) {
    for (int64_t c = 0; c < dim; ++c) out[c] = static_cast<float>(row[c]) - offset;
  } else if (rows.bits == 2) {
    for (int64_t c = 0; c < dim; ++c) {
      out[c] = static_cast<float>((row[c / 4] >> (2 * (c % 4))) & 0x03) - offset;
    }
  } else {
    const int64_t pairs = dim / 2;
    for (int64_t j = 0; j < pairs; ++j) {
      const uint8_t b = row[j];
      out[2 * j] = static_cast<float>(b & 0x0F) - offset;
      out[2 * j + 1] = static_cast<float>(b >> 4) - offset;
    }
    if (dim % 2 != 0) out[dim - 1] = static_cast<float>(row[pairs] & 0x0F) - offset;
  }
  const int64_t scale_row =
      rows.block_of == nullptr
          ? t
          : rows.block_of[h * rows.block_head_stride + t * rows.block_row_stride];
  const int64_t at = h * rows.scale_head_stride + scale_row * rows.scale_row_stride;
  const S* scale = static_cast<const S*>(rows.scale) + at;
  const S* zero = rows.zero == nullptr ? nullptr : static_cast<const S*>(rows.zero) + at;
  const int64_t group = rows.group;
  if (group == 1) {
    if (zero != nullptr) {
      for (int64_t c = 0; c < dim; ++c) {
        out[c] = out[c] * static_cast<float>(scale[c]) + static_cast<float>(zero[c]);
      }
    } else {
      for (int64_t c = 0; c < dim; ++c) out[c] *= static_cast<float>(scale[c]);
    }
    return out;
  }
  for (int64_t g = 0, c = 0; c < dim; ++g, c += group) {
    const float s = static_cast<float>(scale[g]);
    const float z = zero != nullptr ? static_cast<float>(zero[g]) : 0.0f;
    for (int64_t i = 0; i < group; ++i) out[c + i] = out[c + i] * s + z;
  }
  return out;
}

}  // namespace kvlab::kernels::internal

#endif  // KVLAB_KERNELS_ROW_DEQUANTIZER_H_
