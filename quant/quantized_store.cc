#include "quant/quantized_store.h"

#include <ATen/ATen.h>

#include <utility>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/device_check.h"
#include "kernels/attention_scores.h"
#include "quant/fused_products.h"

namespace kvlab::quant {

QuantizedStore::QuantizedStore(const kernels::IntegerFormat& format, const StoreSpec& spec,
                               int64_t scales_per_row, int64_t group, std::string layout)
    : format_(format),
      spec_(spec),
      levels_(spec.kv_heads, {format.PackedBytes(spec.head_dim)},
              at::TensorOptions().dtype(at::kByte).device(spec.device)),
      scales_(spec.kv_heads, {scales_per_row},
              at::TensorOptions().dtype(format.scale_dtype).device(spec.device)),
      zeros_(spec.kv_heads, {scales_per_row},
             at::TensorOptions().dtype(format.scale_dtype).device(spec.device)),
      residual_(spec.kv_heads, {spec.head_dim},
                at::TensorOptions().dtype(at::kFloat).device(spec.device)),
      group_(group),
      layout_(std::move(layout)) {}

absl::Status QuantizedStore::Append(const at::Tensor& tokens) {
  // The one finiteness check of these tokens: the kernels quantize what they are given,
  // and tokens waiting in the residual are quantized later without another look.
  KVLAB_RETURN_IF_ERROR(CheckOnDevice(
      at::isfinite(tokens).all(),
      absl::InvalidArgumentError("cannot quantize values that include NaN or Inf")));
  return AppendFinite(tokens);
}

at::Tensor QuantizedStore::Materialize() const {
  if (levels_.length() == 0) return residual_.View().clone();
  const at::Tensor quantized = DequantizeQuantized();
  if (residual_.length() == 0) return quantized;
  return at::cat({quantized, residual_.View()}, 1);
}

absl::StatusOr<at::Tensor> QuantizedStore::MultiplyTransposed(const at::Tensor& queries) const {
  // Many queries (prefill): one dequantized copy and a matmul beat the fused kernel.
  if (queries.size(1) > kernels::kFusedMaxQueries) {
    return at::matmul(queries, Materialize().transpose(1, 2));
  }
  return std::visit(
      [&](const auto& view) {
        return FusedMultiplyTransposed(queries, view, levels_.length(), residual_.View());
      },
      View());
}

absl::StatusOr<at::Tensor> QuantizedStore::Multiply(const at::Tensor& weights) const {
  if (weights.size(1) > kernels::kFusedMaxQueries) return at::matmul(weights, Materialize());
  return std::visit(
      [&](const auto& view) {
        return FusedMultiply(weights, view, levels_.length(), residual_.View());
      },
      View());
}

std::optional<std::vector<kernels::CacheRowsView>> QuantizedStore::DecodeRuns() const {
  std::vector<kernels::CacheRowsView> runs;
  std::visit([&](const auto& view) { runs.push_back(view); }, View());
  runs.push_back(kernels::DenseRowsView{residual_.View()});
  return runs;
}

int64_t QuantizedStore::held_bytes() const {
  return levels_.held_bytes() + scales_.held_bytes() + zeros_.held_bytes() + residual_.held_bytes();
}

int64_t QuantizedStore::allocated_bytes() const {
  return levels_.allocated_bytes() + scales_.allocated_bytes() + zeros_.allocated_bytes() +
         residual_.allocated_bytes();
}

std::string QuantizedStore::Describe() const {
  return absl::StrFormat("%s g%d %s %s-scales r%d", format_.Describe(), group_, layout_,
                         c10::toString(format_.scale_dtype), spec_.residual_tokens);
}

}  // namespace kvlab::quant
