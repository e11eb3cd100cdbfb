// HadamardRotatedStore: a TensorStore that holds its tokens rotated by an orthonormal
// Walsh-Hadamard matrix, so that the store it wraps quantizes rotated vectors.
//
// Each token's head_dim channels are cut into blocks of `block` channels and each
// block x becomes x H (H = H^T, H H = I). Outlier channels are spread over the block,
// so a group's range shrinks and integer levels fit the data better. Attention is
// unchanged but for quantization error: scores use q H · (k H) = q · k, and a weighted
// sum of rotated values is rotated back by H. llama.cpp does the same for every
// quantized K and V cache (src/llama-kv-cache.cpp, attn_rot_k / attn_rot_v; the graph
// rotates Q, K and V and the attention output in src/llama-graph.cpp, build_attn),
// with blocks of 64 for V and, for K, the largest power of two dividing head_dim;
// QuaRot (Ashkboos et al., "QuaRot: Outlier-Free 4-Bit Inference in Rotated LLMs",
// NeurIPS 2024, https://arxiv.org/abs/2404.00456) rotates the cache the same way.
//
// Bytes are the wrapped store's: the rotation is a constant of the model's shape, as
// the weights are, and is not counted. There is no decode-kernel form (DecodeRuns()
// is nullopt): attention takes the two products, which rotate.
#ifndef KVLAB_QUANT_HADAMARD_STORE_H_
#define KVLAB_QUANT_HADAMARD_STORE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/quantizer.h"
#include "core/tensor_store.h"

namespace kvlab::quant {

// The orthonormal Walsh-Hadamard matrix of order n (a power of two), Sylvester's
// construction scaled by 1 / sqrt(n): fp32 [n, n], symmetric, its own inverse.
at::Tensor WalshHadamard(int64_t n, const at::TensorOptions& options);

class HadamardRotatedStore : public TensorStore {
 public:
  // InvalidArgument unless `block` is a power of two >= 2 dividing spec.head_dim.
  static absl::StatusOr<std::unique_ptr<HadamardRotatedStore>> Create(
      int64_t block, const StoreSpec& spec, std::unique_ptr<TensorStore> inner);

  absl::Status Append(const at::Tensor& tokens) override;
  absl::StatusOr<at::Tensor> MultiplyTransposed(const at::Tensor& queries) const override;
  absl::StatusOr<at::Tensor> Multiply(const at::Tensor& weights) const override;
  at::Tensor Materialize() const override;
  absl::Status Retain(const at::Tensor& keep) override { return inner_->Retain(keep); }
  int64_t length() const override { return inner_->length(); }
  int64_t held_bytes() const override { return inner_->held_bytes(); }
  int64_t allocated_bytes() const override { return inner_->allocated_bytes(); }
  int64_t metadata_bytes() const override { return inner_->metadata_bytes(); }
  // The wrapped store's, then e.g. " hadamard64".
  std::string Describe() const override;

 private:
  HadamardRotatedStore(int64_t head_dim, at::Tensor hadamard, std::unique_ptr<TensorStore> inner)
      : head_dim_(head_dim), hadamard_(std::move(hadamard)), inner_(std::move(inner)) {}

  // InvalidArgument unless x is [kv_heads, n, head_dim] (`what` names it).
  absl::Status CheckShape(const at::Tensor& x, const char* what) const;

  // x [..., head_dim] with each block of channels multiplied by H (which also undoes
  // a rotation, H being its own inverse).
  at::Tensor Rotate(const at::Tensor& x) const;

  int64_t head_dim_;
  at::Tensor hadamard_;  // [block, block] fp32 on the store's device
  std::unique_ptr<TensorStore> inner_;
};

}  // namespace kvlab::quant

#endif  // KVLAB_QUANT_HADAMARD_STORE_H_
