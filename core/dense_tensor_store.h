// DenseTensorStore: the base TensorStore, tokens held as fp32, bf16 or fp16 on a device.
//
// Storage is a TokenBuffer: appending a token is amortised O(1), and retained tokens
// are compacted with the memory of evicted ones reused or returned.
#ifndef KVLAB_CORE_DENSE_TENSOR_STORE_H_
#define KVLAB_CORE_DENSE_TENSOR_STORE_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor_store.h"
#include "core/token_buffer.h"

namespace kvlab {

class DenseTensorStore : public TensorStore {
 public:
  // dtype: at::kFloat, at::kBFloat16 or at::kHalf (computation is fp32 either way).
  // Fails with InvalidArgument for another dtype or non-positive sizes and with
  // FailedPrecondition for a device this LibTorch build cannot use.
  static absl::StatusOr<std::unique_ptr<DenseTensorStore>> Create(int64_t kv_heads,
                                                                  int64_t head_dim,
                                                                  at::ScalarType dtype,
                                                                  c10::Device device);

  absl::Status Append(const at::Tensor& tokens) override { return buffer_.Append(tokens); }
  absl::StatusOr<at::Tensor> MultiplyTransposed(const at::Tensor& queries) const override;
  absl::StatusOr<at::Tensor> Multiply(const at::Tensor& weights) const override;
  absl::StatusOr<at::Tensor> MultiplyTransposedRange(const at::Tensor& queries, int64_t begin,
                                                     int64_t end) const override;
  absl::StatusOr<at::Tensor> MultiplyRange(const at::Tensor& weights, int64_t begin,
                                           int64_t end) const override;
  at::Tensor Materialize() const override;
  std::optional<std::vector<kernels::CacheRowsView>> DecodeRuns() const override {
    return std::vector<kernels::CacheRowsView>{kernels::DenseRowsView{buffer_.View()}};
  }
  absl::Status Retain(const at::Tensor& keep) override { return buffer_.Retain(keep); }
  int64_t length() const override { return buffer_.length(); }
  int64_t held_bytes() const override { return buffer_.held_bytes(); }
  int64_t allocated_bytes() const override { return buffer_.allocated_bytes(); }
  std::string Describe() const override;

  int64_t capacity() const { return buffer_.capacity(); }

 private:
  DenseTensorStore(int64_t kv_heads, int64_t head_dim, at::ScalarType dtype, c10::Device device);
  // The held tokens in fp32: a view, or a converted copy for 16-bit stores.
  at::Tensor HeldAsFloat() const;

  at::ScalarType dtype_;
  TokenBuffer buffer_;
};

}  // namespace kvlab

#endif  // KVLAB_CORE_DENSE_TENSOR_STORE_H_
