#include "quant/per_channel_store.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "kernels/quantize_rows.h"
#include "quant/retain_split.h"

namespace kvlab::quant {

absl::StatusOr<std::unique_ptr<PerChannelQuantizedStore>> PerChannelQuantizedStore::Create(
    const kernels::IntegerFormat& format, int64_t block, const StoreSpec& spec,
    ResidualFlush flush) {
  if (block < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("per-channel group_size (tokens per block) must be >= 1, got %d", block));
  }
  if (spec.residual_tokens < 0) {
    return absl::InvalidArgumentError("residual_tokens must be >= 0");
  }
  if (flush == ResidualFlush::kKivi &&
      (spec.residual_tokens < block || spec.residual_tokens % block != 0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "KIVI's residual flush needs residual_tokens to be a positive multiple of the "
        "per-channel group_size %d, got %d",
        block, spec.residual_tokens));
  }
  return std::unique_ptr<PerChannelQuantizedStore>(
      new PerChannelQuantizedStore(format, block, spec, flush));
}

PerChannelQuantizedStore::PerChannelQuantizedStore(const kernels::IntegerFormat& format,
                                                   int64_t block, const StoreSpec& spec,
                                                   ResidualFlush flush)
    : QuantizedStore(format, spec, /*scales_per_row=*/spec.head_dim, block,
                     flush == ResidualFlush::kKivi ? "per-channel kivi-flush" : "per-channel"),
      flush_(flush),
      block_of_(spec.kv_heads, {}, at::TensorOptions().dtype(at::kLong).device(spec.device)) {}

absl::Status PerChannelQuantizedStore::AppendBlock(const at::Tensor& x) {
  const int64_t n = x.size(1);
  // Each channel quantizes over the block's tokens; the kernel stores exactly what
  // kernels::QuantizeGroups() would over x^T (kernels/quantize_rows.h).
  KVLAB_ASSIGN_OR_RETURN(kernels::QuantizedTokens q, kernels::QuantizeChannelBlock(x, format_));
  KVLAB_RETURN_IF_ERROR(levels_.Append(q.levels));
  const at::Tensor index = at::full({spec_.kv_heads, n}, scales_.length(),
                                    at::TensorOptions().dtype(at::kLong).device(x.device()));
  KVLAB_RETURN_IF_ERROR(block_of_.Append(index));
  KVLAB_RETURN_IF_ERROR(scales_.Append(q.scale));  // [heads, 1, d]
  if (!format_.symmetric) KVLAB_RETURN_IF_ERROR(zeros_.Append(q.zero));
  return absl::OkStatus();
}

absl::Status PerChannelQuantizedStore::AppendFinite(const at::Tensor& tokens) {
  const int64_t block = group();
  KVLAB_RETURN_IF_ERROR(residual_.Append(tokens));
  if (flush_ == ResidualFlush::kKivi) {
    // Every whole R leaves the residual; R is a multiple of the block.
    const int64_t leaving = residual_.length() / spec_.residual_tokens * spec_.residual_tokens;
    if (leaving == 0) return absl::OkStatus();
    for (int64_t at = 0; at < leaving; at += block) {
      KVLAB_RETURN_IF_ERROR(AppendBlock(residual_.View().narrow(1, at, block)));
    }
    return DropOldest(leaving, &residual_);
  }
  while (residual_.length() >= spec_.residual_tokens + block) {
    KVLAB_RETURN_IF_ERROR(AppendBlock(residual_.View().narrow(1, 0, block)));
    KVLAB_RETURN_IF_ERROR(DropOldest(block, &residual_));
  }
  return absl::OkStatus();
}

at::Tensor PerChannelQuantizedStore::DequantizeQuantized() const {
  const int64_t d = spec_.head_dim;
  // Each token's block scales: [heads, tokens, d].
  const at::Tensor index =
      block_of_.View().unsqueeze(-1).expand({spec_.kv_heads, levels_.length(), d});
  const at::Tensor scale = at::gather(scales_.View(), 1, index);
  const at::Tensor zero = format_.symmetric ? at::Tensor() : at::gather(zeros_.View(), 1, index);
  return kernels::DequantizeLevels(format_, kernels::UnpackLevels(format_, levels_.View(), d),
                                   scale, zero);
}

QuantizedStore::QuantizedView PerChannelQuantizedStore::View() const {
  return kernels::ChannelBlocksView{format_, spec_.head_dim, levels_.View(), block_of_.View(),
                                    scales_.View(),
                                    format_.symmetric ? at::Tensor() : zeros_.View()};
}

absl::Status PerChannelQuantizedStore::Retain(const at::Tensor& keep) {
  const int64_t blocks = scales_.length();
  KVLAB_ASSIGN_OR_RETURN(
      RetainSplit split,
      SplitRetain(keep, spec_.kv_heads, levels_.length(), length(), block_of_.View(), blocks));
  if (split.residual_moves) {
    // Heads keep different numbers of residual tokens: quantize the whole residual as
    // one block, from which the heads that need to take their extra tokens.
    KVLAB_RETURN_IF_ERROR(AppendBlock(residual_.View()));
    // The new block is in use: the heads' extra tokens are in it.
    split.blocks_in_use =
        at::cat({split.blocks_in_use, at::ones({1}, split.blocks_in_use.options())});
    ++split.blocks_live;
  }
  const at::Tensor& to_quantized = split.to_quantized;
  KVLAB_RETURN_IF_ERROR(levels_.Retain(to_quantized));
  KVLAB_RETURN_IF_ERROR(block_of_.Retain(to_quantized));
  KVLAB_RETURN_IF_ERROR(residual_.Retain(split.to_residual));
  return DropEmptyBlocks(split.blocks_in_use, split.blocks_live);
}

absl::Status PerChannelQuantizedStore::DropEmptyBlocks(const at::Tensor& in_use, int64_t live) {
  const int64_t blocks = scales_.length();
  if (live == blocks) return absl::OkStatus();
  // Old block index -> new index, in order.
  const at::Tensor used = in_use.to(at::kLong);
  const at::Tensor renumber = at::cumsum(used, 0) - 1;
  // The count is known here, so the indices need no read back from the device.
  const at::Tensor kept =
      at::nonzero_static(used, live).squeeze(1).unsqueeze(0).expand({spec_.kv_heads, live});
  KVLAB_RETURN_IF_ERROR(scales_.Retain(kept.contiguous()));
  if (!format_.symmetric) KVLAB_RETURN_IF_ERROR(zeros_.Retain(kept.contiguous()));
  if (levels_.length() > 0) {
    const at::Tensor remapped = renumber.index_select(0, block_of_.View().reshape({-1}))
                                    .view({spec_.kv_heads, levels_.length()});
    block_of_.View().copy_(remapped);
  }
  return absl::OkStatus();
}

}  // namespace kvlab::quant
