#include "quant/per_token_store.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "kernels/quantize_rows.h"
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
    : QuantizedStore(format, spec, /*scales_per_row=*/spec.head_dim / group, group, "per-token") {}

absl::StatusOr<kernels::QuantizedGroups> PerTokenQuantizedStore::Quantize(const at::Tensor& x) const {
  // The kernel stores exactly what kernels::QuantizeGroups() would (kernels/quantize_rows.h).
  KVLAB_ASSIGN_OR_RETURN(kernels::QuantizedTokens q,
                         kernels::QuantizeTokenGroups(x, group(), format_));
  return kernels::QuantizedGroups{q.levels, q.scale, q.zero};
}

QuantizedStore::QuantizedView PerTokenQuantizedStore::View() const {
  return kernels::TokenGroupsView{format_, spec_.head_dim, group(), levels_.View(), scales_.View(),
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

absl::Status PerTokenQuantizedStore::AppendFinite(const at::Tensor& tokens) {
  if (spec_.residual_tokens == 0) {
    // Straight to quantized storage: the full-precision input is never kept.
    KVLAB_ASSIGN_OR_RETURN(kernels::QuantizedGroups q, Quantize(tokens));
    return AppendQuantized(q);
  }
  KVLAB_RETURN_IF_ERROR(residual_.Append(tokens));
  return Flush(residual_.length() - spec_.residual_tokens);
}

at::Tensor PerTokenQuantizedStore::DequantizeQuantized() const {
  const int64_t d = spec_.head_dim;
  const at::Tensor levels =
      kernels::UnpackLevels(format_, levels_.View(), d).unflatten(-1, {d / group(), group()});
  const at::Tensor zero = format_.symmetric ? at::Tensor() : zeros_.View().unsqueeze(-1);
  return kernels::DequantizeLevels(format_, levels, scales_.View().unsqueeze(-1), zero).flatten(-2);
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

}  // namespace kvlab::quant
