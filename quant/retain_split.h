// How a quantized store's Retain() divides the kept tokens between quantized storage
// and the full-precision residual.
//
// A store holds its quantized tokens first and its residual after them, in the same
// order in every head. Eviction may keep different numbers of residual tokens in
// different heads; the residual stays rectangular by keeping, in every head, the
// fewest residual tokens any head keeps, and sending the other heads' older kept
// residual tokens to quantized storage early (never the reverse).
#ifndef KVLAB_QUANT_RETAIN_SPLIT_H_
#define KVLAB_QUANT_RETAIN_SPLIT_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/token_buffer.h"

namespace kvlab::quant {

struct RetainSplit {
  // [heads, m - r] indices into the [quantized; residual] order: the tokens that end
  // up quantized. Indices >= the quantized count are residual tokens to quantize first.
  at::Tensor to_quantized;
  // [heads, r] indices into the residual: the tokens that stay in full precision.
  at::Tensor to_residual;
  // Whether any kept residual token moves to quantized storage.
  bool residual_moves = false;
  // With `block_of` given: [blocks] bool, whether a kept quantized token still belongs
  // to each of the store's blocks, and how many do.
  at::Tensor blocks_in_use;
  int64_t blocks_live = 0;
};

// `keep` [heads, m] holds ascending indices into the store's `length` tokens, of which
// the first `quantized` are quantized. A per-channel store passes `block_of` [heads,
// quantized], each quantized token's block among `blocks`, to learn which blocks stay
// in use. The shapes that follow depend on the kept tokens, so this reads them from
// the device, in one transfer. InvalidArgument for a malformed `keep`.
absl::StatusOr<RetainSplit> SplitRetain(const at::Tensor& keep, int64_t heads, int64_t quantized,
                                        int64_t length, const at::Tensor& block_of = {},
                                        int64_t blocks = 0);

// Drops the `n` oldest tokens of every head of `residual`: they have just been
// quantized and must not survive in full precision.
absl::Status DropOldest(int64_t n, TokenBuffer* residual);

}  // namespace kvlab::quant

#endif  // KVLAB_QUANT_RETAIN_SPLIT_H_
