#include "quant/per_channel_store.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/device_check.h"
#include "kernels/attention_scores.h"
#include "kernels/quantize_rows.h"
#include "quant/fused_products.h"
#include "quant/retain_split.h"

namespace kvlab::quant {

absl::StatusOr<std::unique_ptr<PerChannelQuantizedStore>> PerChannelQuantizedStore::Create(
    const kernels::IntegerFormat& format, int64_t block, const StoreSpec& spec) {
  if (block < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("per-channel group_size (tokens per block) must be >= 1, got %d", block));
  }
  if (spec.residual_tokens < 0) {
    return absl::InvalidArgumentError("residual_tokens must be >= 0");
  }
  return std::unique_ptr<PerChannelQuantizedStore>(
      new PerChannelQuantizedStore(format, block, spec));
}

PerChannelQuantizedStore::PerChannelQuantizedStore(const kernels::IntegerFormat& format, int64_t block,
                                                   const StoreSpec& spec)
    : format_(format),
      block_(block),
      spec_(spec),
      levels_(spec.kv_heads, {format.PackedBytes(spec.head_dim)},
              at::TensorOptions().dtype(at::kByte).device(spec.device)),
      block_of_(spec.kv_heads, {}, at::TensorOptions().dtype(at::kLong).device(spec.device)),
      scales_(spec.kv_heads, {spec.head_dim},
              at::TensorOptions().dtype(format.scale_dtype).device(spec.device)),
      zeros_(spec.kv_heads, {spec.head_dim},
             at::TensorOptions().dtype(format.scale_dtype).device(spec.device)),
      residual_(spec.kv_heads, {spec.head_dim},
                at::TensorOptions().dtype(at::kFloat).device(spec.device)) {}

absl::Status PerChannelQuantizedStore::AppendBlock(const at::Tensor& x) {
  const int64_t n = x.size(1);
  // Each channel quantizes over the block's tokens; the kernel stores exactly what
  // kernels::QuantizeGroups() would over x^T (kernels/quantize_rows.h).
  KVLAB_ASSIGN_OR_RETURN(
      kernels::QuantizedTokens q,
      kernels::QuantizeChannelBlock(x, format_));
  KVLAB_RETURN_IF_ERROR(levels_.Append(q.levels));
  const at::Tensor index = at::full({spec_.kv_heads, n}, scales_.length(),
                                    at::TensorOptions().dtype(at::kLong).device(x.device()));
  KVLAB_RETURN_IF_ERROR(block_of_.Append(index));
  KVLAB_RETURN_IF_ERROR(scales_.Append(q.scale));  // [heads, 1, d]
  if (!format_.symmetric) KVLAB_RETURN_IF_ERROR(zeros_.Append(q.zero));
  return absl::OkStatus();
}

absl::Status PerChannelQuantizedStore::Append(const at::Tensor& tokens) {
  // The one finiteness check of these tokens: the kernels quantize what they are given.
  KVLAB_RETURN_IF_ERROR(CheckOnDevice(
      at::isfinite(tokens).all(),
      absl::InvalidArgumentError("cannot quantize values that include NaN or Inf")));
  KVLAB_RETURN_IF_ERROR(residual_.Append(tokens));
  while (residual_.length() >= spec_.residual_tokens + block_) {
    KVLAB_RETURN_IF_ERROR(AppendBlock(residual_.View().narrow(1, 0, block_)));
    KVLAB_RETURN_IF_ERROR(DropOldest(block_, &residual_));
  }
  return absl::OkStatus();
}

at::Tensor PerChannelQuantizedStore::Materialize() const {
  const int64_t d = spec_.head_dim;
  if (levels_.length() == 0) return residual_.View().clone();
  // Each token's block scales: [heads, tokens, d].
  const at::Tensor index = block_of_.View().unsqueeze(-1).expand({spec_.kv_heads, levels_.length(), d});
  const at::Tensor scale = at::gather(scales_.View(), 1, index);
  const at::Tensor zero =
      format_.symmetric ? at::Tensor() : at::gather(zeros_.View(), 1, index);
  const at::Tensor quantized =
      kernels::DequantizeLevels(format_, kernels::UnpackLevels(format_, levels_.View(), d), scale, zero);
  if (residual_.length() == 0) return quantized;
  return at::cat({quantized, residual_.View()}, 1);
}

kernels::ChannelBlocksView PerChannelQuantizedStore::QuantizedView() const {
  return {format_, spec_.head_dim, levels_.View(), block_of_.View(),
          scales_.View(), format_.symmetric ? at::Tensor() : zeros_.View()};
}

absl::StatusOr<at::Tensor> PerChannelQuantizedStore::MultiplyTransposed(const at::Tensor& queries) const {
  if (queries.size(1) > kernels::kFusedMaxQueries) return at::matmul(queries, Materialize().transpose(1, 2));
  return FusedMultiplyTransposed(queries, QuantizedView(), levels_.length(), residual_.View());
}

absl::StatusOr<at::Tensor> PerChannelQuantizedStore::Multiply(const at::Tensor& weights) const {
  if (weights.size(1) > kernels::kFusedMaxQueries) return at::matmul(weights, Materialize());
  return FusedMultiply(weights, QuantizedView(), levels_.length(), residual_.View());
}

absl::Status PerChannelQuantizedStore::Retain(const at::Tensor& keep) {
  KVLAB_ASSIGN_OR_RETURN(const RetainSplit split,
                         SplitRetain(keep, spec_.kv_heads, levels_.length(), length()));
  if (split.residual_moves) {
    // Heads keep different numbers of residual tokens: quantize the whole residual as
    // one block, from which the heads that need to take their extra tokens.
    KVLAB_RETURN_IF_ERROR(AppendBlock(residual_.View()));
  }
  const at::Tensor& to_quantized = split.to_quantized;
  KVLAB_RETURN_IF_ERROR(levels_.Retain(to_quantized));
  KVLAB_RETURN_IF_ERROR(block_of_.Retain(to_quantized));
  KVLAB_RETURN_IF_ERROR(residual_.Retain(split.to_residual));
  return DropEmptyBlocks();
}

absl::Status PerChannelQuantizedStore::DropEmptyBlocks() {
  const int64_t blocks = scales_.length();
  if (blocks == 0) return absl::OkStatus();
  const auto long_options = at::TensorOptions().dtype(at::kLong).device(residual_.View().device());
  at::Tensor used = at::zeros({blocks}, long_options);
  if (levels_.length() > 0) used.index_fill_(0, block_of_.View().reshape({-1}), 1);
  const int64_t live = used.sum().item<int64_t>();
  if (live == blocks) return absl::OkStatus();
  // Old block index -> new index, in order.
  const at::Tensor renumber = at::cumsum(used, 0) - 1;
  const at::Tensor kept = used.nonzero().squeeze(1).unsqueeze(0).expand({spec_.kv_heads, live});
  KVLAB_RETURN_IF_ERROR(scales_.Retain(kept.contiguous()));
  if (!format_.symmetric) KVLAB_RETURN_IF_ERROR(zeros_.Retain(kept.contiguous()));
  if (levels_.length() > 0) {
    const at::Tensor remapped = renumber.index_select(0, block_of_.View().reshape({-1}))
                                    .view({spec_.kv_heads, levels_.length()});
    block_of_.View().copy_(remapped);
  }
  return absl::OkStatus();
}

int64_t PerChannelQuantizedStore::held_bytes() const {
  return levels_.held_bytes() + scales_.held_bytes() + zeros_.held_bytes() + residual_.held_bytes();
}

int64_t PerChannelQuantizedStore::allocated_bytes() const {
  return levels_.allocated_bytes() + block_of_.allocated_bytes() + scales_.allocated_bytes() +
         zeros_.allocated_bytes() + residual_.allocated_bytes();
}

std::string PerChannelQuantizedStore::Describe() const {
  return absl::StrFormat("%s g%d per-channel %s-scales r%d", format_.Describe(), block_,
                         c10::toString(format_.scale_dtype), spec_.residual_tokens);
}

}  // namespace kvlab::quant
