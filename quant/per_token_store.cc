#include "quant/per_token_store.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/device_check.h"
#include "kernels/attention_scores.h"
#include "kernels/quantize_rows.h"
#include "kernels/weighted_values.h"
#include "quant/fused_products.h"
#include "quant/retain_split.h"

namespace kvlab::quant {

absl::StatusOr<std::unique_ptr<PerTokenQuantizedStore>> PerTokenQuantizedStore::Create(
    const kernels::IntegerFormat& format, int64_t group, const StoreSpec& spec) {
  if (group < 1 || spec.head_dim % group != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "group_size %d must divide head_dim %d", group, spec.head_dim));
  }
  if (spec.residual_tokens < 0) {
    return absl::InvalidArgumentError("residual_tokens must be >= 0");
  }
  return std::unique_ptr<PerTokenQuantizedStore>(new PerTokenQuantizedStore(format, group, spec));
}

PerTokenQuantizedStore::PerTokenQuantizedStore(const kernels::IntegerFormat& format, int64_t group,
                                               const StoreSpec& spec)
    : format_(format),
      group_(group),
      spec_(spec),
      levels_(spec.kv_heads, {format.PackedBytes(spec.head_dim)},
              at::TensorOptions().dtype(at::kByte).device(spec.device)),
      scales_(spec.kv_heads, {spec.head_dim / group},
              at::TensorOptions().dtype(format.scale_dtype).device(spec.device)),
      zeros_(spec.kv_heads, {spec.head_dim / group},
             at::TensorOptions().dtype(format.scale_dtype).device(spec.device)),
      residual_(spec.kv_heads, {spec.head_dim},
                at::TensorOptions().dtype(at::kFloat).device(spec.device)) {}

absl::StatusOr<kernels::QuantizedGroups> PerTokenQuantizedStore::Quantize(const at::Tensor& x) const {
  // The kernel stores exactly what kernels::QuantizeGroups() would (kernels/quantize_rows.h).
  KVLAB_ASSIGN_OR_RETURN(
      kernels::QuantizedTokens q,
      kernels::QuantizeTokenGroups(x, group_, format_));
  return kernels::QuantizedGroups{q.levels, q.scale, q.zero};
}

kernels::TokenGroupsView PerTokenQuantizedStore::QuantizedView() const {
  return {format_, spec_.head_dim, group_, levels_.View(), scales_.View(),
          format_.symmetric ? at::Tensor() : zeros_.View()};
}

absl::Status PerTokenQuantizedStore::AppendQuantized(const kernels::QuantizedGroups& q) {
  KVLAB_RETURN_IF_ERROR(levels_.Append(q.levels));
  KVLAB_RETURN_IF_ERROR(scales_.Append(q.scale));
  if (!format_.symmetric) KVLAB_RETURN_IF_ERROR(zeros_.Append(q.zero));
  return absl::OkStatus();
}

absl::Status PerTokenQuantizedStore::Flush(int64_t n) {
  if (n <= 0) return absl::OkStatus();
  KVLAB_ASSIGN_OR_RETURN(kernels::QuantizedGroups q, Quantize(residual_.View().narrow(1, 0, n)));
  KVLAB_RETURN_IF_ERROR(AppendQuantized(q));
  return DropOldest(n, &residual_);
}

absl::Status PerTokenQuantizedStore::Append(const at::Tensor& tokens) {
  // The one finiteness check of these tokens: the kernels quantize what they are given.
  KVLAB_RETURN_IF_ERROR(CheckOnDevice(
      at::isfinite(tokens).all(),
      absl::InvalidArgumentError("cannot quantize values that include NaN or Inf")));
  if (spec_.residual_tokens == 0) {
    // Straight to quantized storage: the full-precision input is never kept.
    KVLAB_ASSIGN_OR_RETURN(kernels::QuantizedGroups q, Quantize(tokens));
    return AppendQuantized(q);
  }
  KVLAB_RETURN_IF_ERROR(residual_.Append(tokens));
  return Flush(residual_.length() - spec_.residual_tokens);
}

at::Tensor PerTokenQuantizedStore::Materialize() const {
  const int64_t d = spec_.head_dim;
  at::Tensor quantized;
  if (levels_.length() > 0) {
    const at::Tensor levels = kernels::UnpackLevels(format_, levels_.View(), d)
                                  .unflatten(-1, {d / group_, group_});
    const at::Tensor zero = format_.symmetric ? at::Tensor() : zeros_.View().unsqueeze(-1);
    quantized = kernels::DequantizeLevels(format_, levels, scales_.View().unsqueeze(-1), zero).flatten(-2);
  }
  if (residual_.length() == 0) {
    return quantized.defined() ? quantized : residual_.View().clone();
  }
  return quantized.defined() ? at::cat({quantized, residual_.View()}, 1) : residual_.View().clone();
}

absl::StatusOr<at::Tensor> PerTokenQuantizedStore::MultiplyTransposed(const at::Tensor& queries) const {
  if (queries.size(1) > kernels::kFusedMaxQueries) return at::matmul(queries, Materialize().transpose(1, 2));
  return FusedMultiplyTransposed(queries, QuantizedView(), levels_.length(), residual_.View());
}

absl::StatusOr<at::Tensor> PerTokenQuantizedStore::Multiply(const at::Tensor& weights) const {
  if (weights.size(1) > kernels::kFusedMaxQueries) return at::matmul(weights, Materialize());
  return FusedMultiply(weights, QuantizedView(), levels_.length(), residual_.View());
}

absl::Status PerTokenQuantizedStore::Retain(const at::Tensor& keep) {
  KVLAB_ASSIGN_OR_RETURN(const RetainSplit split,
                         SplitRetain(keep, spec_.kv_heads, levels_.length(), length()));
  if (split.residual_moves) {
    // Some heads keep more residual tokens than others: quantize the residual (each
    // token on its own, as a later flush would) so those can move to quantized storage.
    KVLAB_ASSIGN_OR_RETURN(kernels::QuantizedGroups q, Quantize(residual_.View()));
    KVLAB_RETURN_IF_ERROR(AppendQuantized(q));
  }
  const at::Tensor& to_quantized = split.to_quantized;
  KVLAB_RETURN_IF_ERROR(levels_.Retain(to_quantized));
  KVLAB_RETURN_IF_ERROR(scales_.Retain(to_quantized));
  if (!format_.symmetric) KVLAB_RETURN_IF_ERROR(zeros_.Retain(to_quantized));
  return residual_.Retain(split.to_residual);
}

int64_t PerTokenQuantizedStore::held_bytes() const {
  return levels_.held_bytes() + scales_.held_bytes() + zeros_.held_bytes() + residual_.held_bytes();
}

int64_t PerTokenQuantizedStore::allocated_bytes() const {
  return levels_.allocated_bytes() + scales_.allocated_bytes() + zeros_.allocated_bytes() +
         residual_.allocated_bytes();
}

std::string PerTokenQuantizedStore::Describe() const {
  return absl::StrFormat("%s g%d per-token %s-scales r%d", format_.Describe(), group_,
                         c10::toString(format_.scale_dtype), spec_.residual_tokens);
}

}  // namespace kvlab::quant
