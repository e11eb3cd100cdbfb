#include "core/dense_tensor_store.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include "absl/strings/str_format.h"
#include "base/device.h"
#include "kernels/attention_scores.h"
#include "kernels/weighted_values.h"

namespace kvlab {

absl::StatusOr<std::unique_ptr<DenseTensorStore>> DenseTensorStore::Create(int64_t kv_heads,
                                                                          int64_t head_dim,
                                                                          at::ScalarType dtype,
                                                                          c10::Device device) {
  if (kv_heads <= 0 || head_dim <= 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("store needs kv_heads > 0 and head_dim > 0, got %d and %d", kv_heads,
                        head_dim));
  }
  if (dtype != at::kFloat && dtype != at::kBFloat16 && dtype != at::kHalf) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "dense store dtype must be float32, bfloat16 or float16, got %s", c10::toString(dtype)));
  }
  if (absl::Status status = CheckDeviceAvailable(device); !status.ok()) return status;
  return std::unique_ptr<DenseTensorStore>(
      new DenseTensorStore(kv_heads, head_dim, dtype, device));
}

DenseTensorStore::DenseTensorStore(int64_t kv_heads, int64_t head_dim, at::ScalarType dtype,
                                   c10::Device device)
    : dtype_(dtype),
      buffer_(kv_heads, {head_dim}, at::TensorOptions().dtype(dtype).device(device)) {}

at::Tensor DenseTensorStore::HeldAsFloat() const {
  const at::Tensor held = buffer_.View();
  return dtype_ == at::kFloat ? held : held.to(at::kFloat);
}

absl::StatusOr<at::Tensor> DenseTensorStore::MultiplyTransposed(const at::Tensor& queries) const {
  return MultiplyTransposedRange(queries, 0, length());
}

absl::StatusOr<at::Tensor> DenseTensorStore::Multiply(const at::Tensor& weights) const {
  return MultiplyRange(weights, 0, length());
}

absl::StatusOr<at::Tensor> DenseTensorStore::MultiplyTransposedRange(const at::Tensor& queries,
                                                                     int64_t begin,
                                                                     int64_t end) const {
  const at::Tensor held = buffer_.View().narrow(1, begin, end - begin);
  if (dtype_ == at::kFloat && queries.size(1) <= kernels::kFusedMaxQueries && end > begin) {
    return kernels::AttentionScores(queries, kernels::DenseRowsView{held});
  }
  const at::Tensor keys = dtype_ == at::kFloat ? held : held.to(at::kFloat);
  return at::matmul(queries, keys.transpose(1, 2));
}

absl::StatusOr<at::Tensor> DenseTensorStore::MultiplyRange(const at::Tensor& weights,
                                                           int64_t begin, int64_t end) const {
  const at::Tensor held = buffer_.View().narrow(1, begin, end - begin);
  if (dtype_ == at::kFloat && weights.size(1) <= kernels::kFusedMaxQueries && end > begin) {
    return kernels::WeightedValues(weights, kernels::DenseRowsView{held});
  }
  return at::matmul(weights, dtype_ == at::kFloat ? held : held.to(at::kFloat));
}

at::Tensor DenseTensorStore::Materialize() const { return HeldAsFloat().clone(); }

std::string DenseTensorStore::Describe() const {
  switch (dtype_) {
    case at::kBFloat16: return "bf16";
    case at::kHalf: return "fp16";
    default: return "fp32";
  }
}

}  // namespace kvlab
