#include "core/tensor_store.h"

#include <ATen/ATen.h>

#include "base/status_macros.h"

namespace kvlab {

absl::StatusOr<at::Tensor> TensorStore::MultiplyTransposedRange(const at::Tensor& queries,
                                                                int64_t begin,
                                                                int64_t end) const {
  KVLAB_ASSIGN_OR_RETURN(const at::Tensor scores, MultiplyTransposed(queries));
  return scores.narrow(2, begin, end - begin);
}

absl::StatusOr<at::Tensor> TensorStore::MultiplyRange(const at::Tensor& weights, int64_t begin,
                                                      int64_t end) const {
  if (begin == 0 && end == length()) return Multiply(weights);
  at::Tensor padded = at::zeros({weights.size(0), weights.size(1), length()}, weights.options());
  padded.narrow(2, begin, end - begin).copy_(weights);
  return Multiply(padded);
}

}  // namespace kvlab
