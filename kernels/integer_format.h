// IntegerFormat: integer quantization of K/V groups, packing and unpacking.
//
// A group of values x is stored as unsigned levels q in [0, 2^bits - 1] and read back
// as (q - offset) * scale + zero (see quant/integer.proto). Two rounding rules:
//   kStored: scales and zero points are rounded to their storage dtype first, and
//     levels are computed against the rounded values, so that what is stored is
//     exactly what is read back. A scale rounded below its exact value is nudged up
//     one step, so no level overflows.
//   kGgml (4 bits only): ggml's q4_0 (symmetric) and q4_1 (asymmetric) reference
//     quantizers (ggml-quants.c, quantize_row_q4_0_ref / quantize_row_q4_1_ref), whose
//     levels come from the fp32 scale and minimum before these are rounded for storage.
//     q4_1: d = (max - min) / 15, level = min(15, floor((x - min) / d + 0.5)).
//     q4_0: d = m / -8 with m the first value of largest magnitude (d may be
//     negative), level = min(15, floor(x / d + 8.5)), read back as (level - 8) * d.
#ifndef KVLAB_KERNELS_INTEGER_FORMAT_H_
#define KVLAB_KERNELS_INTEGER_FORMAT_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace kvlab::kernels {

struct IntegerFormat {
  int bits = 8;               // 8, 4 or 2 (2: CPU only).
  bool symmetric = false;
  at::ScalarType scale_dtype = at::kFloat;  // kFloat, kBFloat16 or kHalf.
  enum class Rounding { kStored, kGgml };
  Rounding rounding = Rounding::kStored;  // kGgml: bits == 4 only.

  int64_t max_level() const { return (int64_t{1} << bits) - 1; }
  int64_t offset() const { return symmetric ? int64_t{1} << (bits - 1) : 0; }
  // Bytes of packed levels for `values` values.
  int64_t PackedBytes(int64_t values) const { return (values * bits + 7) / 8; }
  std::string Describe() const;  // e.g. "int4-asym", "int8-sym" or "int4-asym-ggml"
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

// Packs levels [..., d] (uint8) for storage: unchanged for 8 bits; below 8, the
// 8 / bits values k·i .. k·i + k - 1 share byte i, value k·i + j in bits
// [j·bits, (j + 1)·bits) (4 bits: 2i in the low nibble, 2i + 1 in the high one;
// 2 bits: 4i in bits 0-1 ... 4i + 3 in bits 6-7), [..., PackedBytes(d)].
at::Tensor PackLevels(const IntegerFormat& format, const at::Tensor& levels);
// The inverse of PackLevels, for `d` values per row.
at::Tensor UnpackLevels(const IntegerFormat& format, const at::Tensor& packed, int64_t d);

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_INTEGER_FORMAT_H_
