#include "quant/fused_products.h"

#include <ATen/ATen.h>

#include "base/status_macros.h"
#include "kernels/attention_scores.h"
#include "kernels/weighted_values.h"

namespace kvlab::quant {

template <typename View>
absl::StatusOr<at::Tensor> FusedMultiplyTransposed(const at::Tensor& queries, const View& view,
                                                   int64_t quantized, const at::Tensor& residual) {
  const bool has_residual = residual.size(1) > 0;
  if (quantized == 0) return at::matmul(queries, residual.transpose(1, 2));
  KVLAB_ASSIGN_OR_RETURN(at::Tensor scores, kernels::AttentionScores(queries, view));
  if (!has_residual) return scores;
  return at::cat({scores, at::matmul(queries, residual.transpose(1, 2))}, 2);
}

template <typename View>
absl::StatusOr<at::Tensor> FusedMultiply(const at::Tensor& weights, const View& view,
                                         int64_t quantized, const at::Tensor& residual) {
  const int64_t r = residual.size(1);
  if (quantized == 0) return at::matmul(weights, residual);
  KVLAB_ASSIGN_OR_RETURN(at::Tensor out,
                         kernels::WeightedValues(weights.narrow(2, 0, quantized), view));
  if (r > 0) out.add_(at::matmul(weights.narrow(2, quantized, r), residual));
  return out;
}

template absl::StatusOr<at::Tensor> FusedMultiplyTransposed(const at::Tensor&,
                                                            const kernels::TokenGroupsView&,
                                                            int64_t, const at::Tensor&);
template absl::StatusOr<at::Tensor> FusedMultiplyTransposed(const at::Tensor&,
                                                            const kernels::ChannelBlocksView&,
                                                            int64_t, const at::Tensor&);
template absl::StatusOr<at::Tensor> FusedMultiply(const at::Tensor&,
                                                  const kernels::TokenGroupsView&, int64_t,
                                                  const at::Tensor&);
template absl::StatusOr<at::Tensor> FusedMultiply(const at::Tensor&,
                                                  const kernels::ChannelBlocksView&, int64_t,
                                                  const at::Tensor&);

}  // namespace kvlab::quant
