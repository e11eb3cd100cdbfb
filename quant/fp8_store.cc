#include "quant/fp8_store.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/device_check.h"

namespace kvlab::quant {

float Fp8Store::LargestFinite(at::ScalarType format) {
  return format == at::kFloat8_e5m2 ? 57344.0f : 448.0f;
}

absl::StatusOr<std::unique_ptr<Fp8Store>> Fp8Store::Create(at::ScalarType format,
                                                          const StoreSpec& spec) {
  if (format != at::kFloat8_e4m3fn && format != at::kFloat8_e5m2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "fp8 store format must be Float8_e4m3fn or Float8_e5m2, got %s", c10::toString(format)));
  }
  if (spec.kv_heads <= 0 || spec.head_dim <= 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("fp8 store needs kv_heads > 0 and head_dim > 0, got %d and %d",
                        spec.kv_heads, spec.head_dim));
  }
  if (spec.residual_tokens != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "fp8 keeps no full-precision residual: residual_tokens must be 0, got %d",
        spec.residual_tokens));
  }
  return std::unique_ptr<Fp8Store>(new Fp8Store(format, spec));
}

Fp8Store::Fp8Store(at::ScalarType format, const StoreSpec& spec)
    : format_(format),
      spec_(spec),
      values_(spec.kv_heads, {spec.head_dim}, at::TensorOptions().dtype(at::kByte).device(spec.device)),
      scales_(spec.kv_heads, {1}, at::TensorOptions().dtype(at::kFloat).device(spec.device)) {}

absl::Status Fp8Store::Append(const at::Tensor& tokens) {
  if (tokens.dim() != 3 || tokens.size(0) != spec_.kv_heads || tokens.size(2) != spec_.head_dim) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "fp8 store expects tokens [%d, n, %d], got %s", spec_.kv_heads, spec_.head_dim,
        c10::str(tokens.sizes())));
  }
  const at::Tensor x = tokens.to(at::kFloat);
  KVLAB_RETURN_IF_ERROR(CheckOnDevice(at::isfinite(x).all(),
                                      absl::InvalidArgumentError("fp8 store refuses NaN or Inf")));
  const float largest = LargestFinite(format_);
  const at::Tensor amax = x.abs().amax(/*dim=*/-1, /*keepdim=*/true);  // [heads, n, 1]
  const at::Tensor scale = at::where(amax > 0, amax / largest, at::ones_like(amax));
  // Clamped: x / scale can round a hair past the largest finite value, which E4M3
  // (no infinities) would turn into NaN.
  const at::Tensor fp8 = (x / scale).clamp(-largest, largest).to(format_);
  KVLAB_RETURN_IF_ERROR(values_.Append(fp8.view(at::kByte)));
  return scales_.Append(scale);
}

at::Tensor Fp8Store::Materialize() const {
  return values_.View().view(format_).to(at::kFloat) * scales_.View();
}

absl::StatusOr<at::Tensor> Fp8Store::MultiplyTransposed(const at::Tensor& queries) const {
  if (queries.dim() != 3 || queries.size(0) != spec_.kv_heads ||
      queries.size(2) != spec_.head_dim) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "fp8 store: queries must be [%d, m, %d], got %s", spec_.kv_heads, spec_.head_dim,
        c10::str(queries.sizes())));
  }
  return at::matmul(queries, Materialize().transpose(1, 2));
}

absl::StatusOr<at::Tensor> Fp8Store::Multiply(const at::Tensor& weights) const {
  if (weights.dim() != 3 || weights.size(0) != spec_.kv_heads || weights.size(2) != length()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "fp8 store: weights must be [%d, m, %d], got %s", spec_.kv_heads, length(),
        c10::str(weights.sizes())));
  }
  return at::matmul(weights, Materialize());
}

absl::Status Fp8Store::Retain(const at::Tensor& keep) {
  KVLAB_RETURN_IF_ERROR(values_.Retain(keep));
  return scales_.Retain(keep);
}

std::string Fp8Store::Describe() const {
  return format_ == at::kFloat8_e5m2 ? "fp8-e5m2 per-token" : "fp8-e4m3 per-token";
}

}  // namespace kvlab::quant
