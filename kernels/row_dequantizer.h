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

template <Encoding kType>
struct ScaleStorage;
template <>
struct ScaleStorage<Encoding::kFloat32> { using type = float; };
template <>
struct ScaleStorage<Encoding::kBFloat16> { using type = c10::BFloat16; };
template <>
struct ScaleStorage<Encoding::kFloat16> { using type = c10::Half; };

// Returns row (h, t) of `rows` as rows.dim floats: dense (fp32) rows in place, quantized
// ones dequantized into `scratch`. kType: the scales' encoding.
template <Encoding kType>
inline const float* DequantizeRow(const QuantizedRows& rows, int64_t h, int64_t t,
                                  float* scratch) {
  using S = typename ScaleStorage<kType>::type;
  const int64_t dim = rows.dim;
  if (!IsQuantized(rows.encoding)) return reinterpret_cast<const float*>(rows.Row(h, t));
  float* out = scratch;
  const uint8_t* row = rows.Row(h, t);
  const float offset = static_cast<float>(rows.offset);
  if (rows.encoding == Encoding::kInt8) {
    for (int64_t c = 0; c < dim; ++c) out[c] = static_cast<float>(row[c]) - offset;
  } else if (rows.encoding == Encoding::kInt2) {
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
  const int64_t at = rows.ScaleRowStart(h, t);
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
