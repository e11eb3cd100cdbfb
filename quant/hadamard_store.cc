#include "quant/hadamard_store.h"

#include <ATen/ATen.h>

#include <cmath>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace kvlab::quant {

at::Tensor WalshHadamard(int64_t n, const at::TensorOptions& options) {
  // Sylvester: H_2m = [[H_m, H_m], [H_m, -H_m]], from H_1 = [1].
  at::Tensor h = at::ones({1, 1}, at::kFloat);
  for (int64_t m = 1; m < n; m *= 2) {
    h = at::cat({at::cat({h, h}, 1), at::cat({h, -h}, 1)}, 0);
  }
  return (h / std::sqrt(static_cast<double>(n))).to(options.dtype(at::kFloat));
}

absl::StatusOr<std::unique_ptr<HadamardRotatedStore>> HadamardRotatedStore::Create(
    int64_t block, const StoreSpec& spec, std::unique_ptr<TensorStore> inner) {
  if (block < 2 || (block & (block - 1)) != 0 || spec.head_dim % block != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "hadamard_block must be a power of two >= 2 that divides head_dim %d, got %d",
        spec.head_dim, block));
  }
  if (inner == nullptr) return absl::InvalidArgumentError("hadamard store needs a store to wrap");
  return std::unique_ptr<HadamardRotatedStore>(new HadamardRotatedStore(
      spec.head_dim, WalshHadamard(block, at::TensorOptions().device(spec.device)), std::move(inner)));
}

at::Tensor HadamardRotatedStore::Rotate(const at::Tensor& x) const {
  const int64_t block = hadamard_.size(0);
  return at::matmul(x.unflatten(-1, {x.size(-1) / block, block}), hadamard_).flatten(-2);
}

absl::Status HadamardRotatedStore::CheckShape(const at::Tensor& x, const char* what) const {
  if (!x.defined() || x.dim() != 3 || x.size(2) != head_dim_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s must be [kv_heads, n, %d], got %s", what, head_dim_,
        x.defined() ? c10::str(x.sizes()) : "undefined"));
  }
  return absl::OkStatus();
}

absl::Status HadamardRotatedStore::Append(const at::Tensor& tokens) {
  KVLAB_RETURN_IF_ERROR(CheckShape(tokens, "tokens"));
  // The wrapped store checks for NaN and Inf: a rotation keeps them non-finite.
  return inner_->Append(Rotate(tokens));
}

absl::StatusOr<at::Tensor> HadamardRotatedStore::MultiplyTransposed(
    const at::Tensor& queries) const {
  KVLAB_RETURN_IF_ERROR(CheckShape(queries, "queries"));
  // q · k = (q H) · (k H), H orthonormal.
  return inner_->MultiplyTransposed(Rotate(queries));
}

absl::StatusOr<at::Tensor> HadamardRotatedStore::Multiply(const at::Tensor& weights) const {
  // sum_t w_t v_t = (sum_t w_t v_t H) H.
  KVLAB_ASSIGN_OR_RETURN(const at::Tensor rotated, inner_->Multiply(weights));
  return Rotate(rotated);
}

at::Tensor HadamardRotatedStore::Materialize() const { return Rotate(inner_->Materialize()); }

std::string HadamardRotatedStore::Describe() const {
  return absl::StrFormat("%s hadamard%d", inner_->Describe(), hadamard_.size(0));
}

}  // namespace kvlab::quant
