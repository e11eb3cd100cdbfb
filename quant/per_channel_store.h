// PerChannelQuantizedStore: each channel quantized over blocks of consecutive tokens
// (KIVI's layout for keys, whose outliers sit in fixed channels).
//
// Tokens wait in a full-precision residual until `residual_tokens + block` of them
// are there; then the oldest `block` become one quantized block, whose every channel
// has its own scale and zero. The residual thus holds between residual_tokens and
// residual_tokens + block - 1 tokens, all counted in held_bytes().
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
#include "kernels/cache_views.h"
#include "kernels/integer_format.h"

namespace kvlab::quant {

class PerChannelQuantizedStore : public TensorStore {
 public:
  // `block` tokens per block; >= 1.
  static absl::StatusOr<std::unique_ptr<PerChannelQuantizedStore>> Create(
      const kernels::IntegerFormat& format, int64_t block, const StoreSpec& spec);

  absl::Status Append(const at::Tensor& tokens) override;
  absl::StatusOr<at::Tensor> MultiplyTransposed(const at::Tensor& queries) const override;
  absl::StatusOr<at::Tensor> Multiply(const at::Tensor& weights) const override;
  at::Tensor Materialize() const override;
  absl::Status Retain(const at::Tensor& keep) override;
  int64_t length() const override { return levels_.length() + residual_.length(); }
  int64_t held_bytes() const override;
  int64_t allocated_bytes() const override;
  int64_t metadata_bytes() const override { return block_of_.held_bytes(); }
  std::string Describe() const override;

  int64_t quantized_length() const { return levels_.length(); }
  int64_t residual_length() const { return residual_.length(); }
  int64_t blocks() const { return scales_.length(); }

 private:
  PerChannelQuantizedStore(const kernels::IntegerFormat& format, int64_t block, const StoreSpec& spec);
  // Quantizes x [heads, n, head_dim] as one new block.
  absl::Status AppendBlock(const at::Tensor& x);
  // Frees the scales of blocks no head holds a token of, renumbering the rest.
  absl::Status DropEmptyBlocks();
  // The quantized tokens as the kernels read them.
  kernels::ChannelBlocksView QuantizedView() const;

  kernels::IntegerFormat format_;
  int64_t block_;
  StoreSpec spec_;
  TokenBuffer levels_;    // [heads, tokens, packed] uint8
  TokenBuffer block_of_;  // [heads, tokens] int64: each quantized token's block
  TokenBuffer scales_;    // [heads, blocks, head_dim]
  TokenBuffer zeros_;     // [heads, blocks, head_dim]
  TokenBuffer residual_;  // [heads, r, head_dim] fp32
};

}  // namespace kvlab::quant

#endif  // KVLAB_QUANT_PER_CHANNEL_STORE_H_
