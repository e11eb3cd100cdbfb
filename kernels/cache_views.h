// Views of quantized cache storage, as the kernels read it.
//
// Levels are unsigned integers read back as (q - offset) * scale + zero (see
// kernels/integer_format.h); 4-bit levels pack two per byte, value 2i in the low nibble.
// Views may be narrowed TokenBuffers: rows (the last dimension) must be contiguous,
// heads and tokens may be strided. All tensors of a view are on one device.
#ifndef KVLAB_KERNELS_CACHE_VIEWS_H_
#define KVLAB_KERNELS_CACHE_VIEWS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "kernels/integer_format.h"
#include "kernels/quantized_rows.h"

namespace kvlab::kernels {

// Tokens quantized one by one, in groups of `group` channels.
struct TokenGroupsView {
  IntegerFormat format;  // scale and zero are in format.scale_dtype
  int64_t dim = 0;
  int64_t group = 0;
  at::Tensor levels;  // uint8 [heads, tokens, packed bytes]
  at::Tensor scale;   // [heads, tokens, dim / group], fp32, bf16 or fp16
  at::Tensor zero;    // like scale, or undefined (symmetric)
};

// Tokens quantized per channel over blocks of tokens (KIVI's key layout).
struct ChannelBlocksView {
  IntegerFormat format;  // scale and zero are in format.scale_dtype
  int64_t dim = 0;
  at::Tensor levels;    // uint8 [heads, tokens, packed bytes]
  at::Tensor block_of;  // int64 [heads, tokens]: each token's block
  at::Tensor scale;     // [heads, blocks, dim], fp32, bf16 or fp16
  at::Tensor zero;      // like scale, or undefined (symmetric)
};

// Dense tokens (a DenseTensorStore's or a residual), read by the same kernels.
struct DenseRowsView {
  at::Tensor rows;  // [heads, tokens, dim]: fp32, fp16 or bf16 (the two products read fp32)
};

// Tokens [start, start + count) of a view, sharing its storage (a per-channel view
// keeps every block's scales: its tokens still name their blocks).
TokenGroupsView NarrowTokens(const TokenGroupsView& view, int64_t start, int64_t count);
ChannelBlocksView NarrowTokens(const ChannelBlocksView& view, int64_t start, int64_t count);
DenseRowsView NarrowTokens(const DenseRowsView& view, int64_t start, int64_t count);

// The raw descriptor of a view, after checking shapes, dtypes (scales in the format's
// scale dtype; dense rows fp32, fp16 or bf16) and that rows are contiguous. The view's
// tensors must outlive the descriptor.
absl::StatusOr<QuantizedRows> Describe(const TokenGroupsView& view);
absl::StatusOr<QuantizedRows> Describe(const ChannelBlocksView& view);
absl::StatusOr<QuantizedRows> Describe(const DenseRowsView& view);

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_CACHE_VIEWS_H_
