// PerChannelQuantizedStore: each channel quantized over blocks of consecutive tokens
// (KIVI's layout for keys, whose outliers sit in fixed channels: Liu et al., "KIVI: A
// Tuning-Free Asymmetric 2bit Quantization for KV Cache", ICML 2024,
// https://arxiv.org/abs/2402.02750).
//
// Tokens wait in a full-precision residual, then leave it as quantized blocks whose
// every channel has its own scale and zero. When, is the ResidualFlush:
// - kBeyondResidual: once `residual_tokens + block` wait, the oldest `block` become
//   one block; the residual holds residual_tokens .. residual_tokens + block - 1.
// - kKivi (KIVI's code, models/llama_kivi.py:131-136 and 193-202): once
//   `residual_tokens` (R, a positive multiple of block) wait, all of them become R /
//   block blocks, and a longer append leaves only its last (length mod R); the
//   residual holds 0 .. R - 1 between appends.
// Every residual token is counted in held_bytes().
//
// Layout, per KV head: packed levels [tokens, PackedBytes(head_dim)], and per block
// scale and zero [blocks, head_dim]; each quantized token records its block index
// (bookkeeping, reported as metadata_bytes()). Eviction may leave a block with fewer
// tokens, which still read back with the block's scales; a block's scales are freed
// once no head holds any of its tokens. Retain() balances residual tokens across heads
// like PerTokenQuantizedStore, quantizing the residual as one extra block when needed.
//
// Cost under eviction: policies that evict the same tokens in every head (window,
// sinks) drain blocks whole, and their scales are freed. Policies that evict different
// tokens per head (h2o, knorm, random) leave blocks with few tokens whose scale rows
// remain, and make residual counts uneven, which adds blocks; the bytes this holds
// are counted, and can exceed a dense cache's at small head_dim.
#ifndef KVLAB_QUANT_PER_CHANNEL_STORE_H_
#define KVLAB_QUANT_PER_CHANNEL_STORE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "core/quantizer.h"
#include "core/token_buffer.h"
#include "kernels/integer_format.h"
#include "quant/quantized_store.h"

namespace kvlab::quant {

class PerChannelQuantizedStore : public QuantizedStore {
 public:
  enum class ResidualFlush { kBeyondResidual, kKivi };

  // `block` tokens per block; >= 1. kKivi needs spec.residual_tokens to be a positive
  // multiple of `block`.
  static absl::StatusOr<std::unique_ptr<PerChannelQuantizedStore>> Create(
      const kernels::IntegerFormat& format, int64_t block, const StoreSpec& spec,
      ResidualFlush flush = ResidualFlush::kBeyondResidual);

  absl::Status Retain(const at::Tensor& keep) override;
  int64_t metadata_bytes() const override { return block_of_.held_bytes(); }

  int64_t blocks() const { return scales_.length(); }

 private:
  PerChannelQuantizedStore(const kernels::IntegerFormat& format, int64_t block,
                           const StoreSpec& spec, ResidualFlush flush);
  absl::Status AppendFinite(const at::Tensor& tokens) override;
  at::Tensor DequantizeQuantized() const override;
  QuantizedView View() const override;
  // Quantizes x [heads, n, head_dim] as one new block.
  absl::Status AppendBlock(const at::Tensor& x);
  // Frees the scales of blocks no head holds a token of (those not `in_use`, [blocks]
  // bool with `live` of them true), renumbering the rest.
  absl::Status DropEmptyBlocks(const at::Tensor& in_use, int64_t live);

  const ResidualFlush flush_;
  TokenBuffer block_of_;  // [heads, tokens] int64: each quantized token's block
};

}  // namespace kvlab::quant

#endif  // KVLAB_QUANT_PER_CHANNEL_STORE_H_
