// Projection: a model's weight matrix W [out, in], applied as y = x W^T, held either as
// an ATen matrix (fp32, bf16 or fp16, dequantized at load) or natively: one or more
// GGUF tensors in their own block formats, stacked along the output features and
// multiplied by ggml's CPU kernels (ggml_matrix.h). The models hold Projections and do
// not care which.
//
//   KVLAB_ASSIGN_OR_RETURN(Projection qkv, weights.LoadProjection({{"blk.0.attn_q.weight",
//                                                                   {q, hidden}}, ...}));
//   at::Tensor y = Linear(x, qkv, bias);  // [..., in] -> [..., out] fp32
//   at::Tensor e = embedding.Rows(tokens);  // an embedding table's rows, fp32
//
// Copies share the weights.
#ifndef KVLAB_EVAL_MODEL_PROJECTION_H_
#define KVLAB_EVAL_MODEL_PROJECTION_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "eval/model/ggml_matrix.h"

namespace kvlab::model {

class Projection {
 public:
  Projection() = default;
  // An ATen matrix [out, in] (any float dtype, any device).
  explicit Projection(at::Tensor matrix) : matrix_(std::move(matrix)) {}
  // GGUF tensors of equal input features, their outputs side by side in this order.
  // Products of fewer than `min_rows` rows are padded with zero rows to that many
  // (GgmlMatrix::kRowIndependentRows: every product in the kernels whose result for a
  // row does not depend on how many rows share it).
  explicit Projection(std::vector<GgmlMatrix> parts, int64_t min_rows = 1)
      : parts_(std::move(parts)), min_rows_(min_rows) {}

  bool native() const { return !parts_.empty(); }
  // The ATen matrix; undefined when native.
  const at::Tensor& matrix() const { return matrix_; }
  int64_t out_features() const;
  int64_t in_features() const;
  // Bytes of the weights as held: the ATen matrix's, or the block-format data's.
  int64_t ByteSize() const;
  bool SharesWith(const Projection& other) const;

  // x [..., in] -> x W^T [..., out] fp32 (x rounded to the weights' dtype, or to the
  // activation type ggml's kernel for the block format takes). Natively, x must be an
  // fp32 CPU tensor and the product runs on at::get_num_threads() threads. Throws
  // c10::Error (as ATen ops do) if ggml fails.
  at::Tensor Apply(const at::Tensor& x) const;

  // The rows `ids` (int64, any shape) of W as fp32 [..., in]: an embedding lookup.
  // Natively each row is dequantized from its block format (nothing else is kept).
  at::Tensor Rows(const at::Tensor& ids) const;

 private:
  at::Tensor matrix_;
  std::vector<GgmlMatrix> parts_;
  int64_t min_rows_ = 1;
};

// y = x W^T as fp32, plus `bias` (fp32) when it is defined.
at::Tensor Linear(const at::Tensor& x, const Projection& weight, const at::Tensor& bias = {});

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_PROJECTION_H_
