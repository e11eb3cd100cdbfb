// IntegerFormat: integer quantization of K/V groups, packing and unpacking.
//
// A group of values x is stored as unsigned levels q in [0, 2^bits - 1] and read back
// as (q - offset) * scale + zero (see quant/integer.proto). Scales and zero points are
// rounded to their storage dtype first, and levels are computed against the rounded
// values, so that what is stored is exactly what is read back. A scale rounded below
// its exact value is nudged up one step, so no level overflows.
#ifndef KVLAB_KERNELS_INTEGER_FORMAT_H_
#define KVLAB_KERNELS_INTEGER_FORMAT_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace kvlab::kernels {

struct IntegerFormat {
  int bits = 8;               // 8 or 4.
  bool symmetric = false;
  at::ScalarType scale_dtype = at::kFloat;  // kFloat, kBFloat16 or kHalf.

  int64_t max_level() const { return (int64_t{1} << bits) - 1; }
  int64_t offset() const { return symmetric ? int64_t{1} << (bits - 1) : 0; }
  // Bytes of packed levels for `values` values.
  int64_t PackedBytes(int64_t values) const { return bits == 8 ? values : (values + 1) / 2; }
  std::string Describe() const;  // e.g. "int4-asym" or "int8-sym"
};

// Quantized groups: levels [..., m, group] (uint8, unpacked), scale and zero [..., m, 1]
// in the scale dtype (zero undefined when symmetric).
struct QuantizedGroups {
  at::Tensor levels;
  at::Tensor scale;
  at::Tensor zero;
};

// Quantizes x [..., group] along its last dimension. Fails with InvalidArgument if x
// holds NaN or Inf.
absl::StatusOr<QuantizedGroups> QuantizeGroups(const IntegerFormat& format, const at::Tensor& x);

// Reads back levels [..., group] with scale and zero broadcastable to them: fp32.
at::Tensor DequantizeLevels(const IntegerFormat& format, const at::Tensor& levels,
                            const at::Tensor& scale, const at::Tensor& zero);

// Packs levels [..., d] (uint8) for storage: unchanged for 8 bits; for 4 bits, value 2i
// in the low nibble and 2i + 1 in the high nibble of byte i ([..., ceil(d / 2)]).
at::Tensor PackLevels(const IntegerFormat& format, const at::Tensor& levels);
// The inverse of PackLevels, for `d` values per row.
at::Tensor UnpackLevels(const IntegerFormat& format, const at::Tensor& packed, int64_t d);

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_INTEGER_FORMAT_H_
