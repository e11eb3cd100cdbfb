// AttentionScores: queries times quantized keys, dequantization fused into the dot
// products. No dequantized copy of the keys is made: each stored row is read once,
// dequantized in registers (GPU) or a dim-sized scratch (CPU), and used at once.
//
//   scores = AttentionScores(queries, keys_view);   // [heads, m, tokens] fp32
//
// Runs on the tensors' device: CPU (vectorised, threaded with at::parallel_for) or
// CUDA (kernels/attention_scores_cuda.cu).
#ifndef KVLAB_KERNELS_ATTENTION_SCORES_H_
#define KVLAB_KERNELS_ATTENTION_SCORES_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "kernels/cache_views.h"

namespace kvlab::kernels {

// Query rows per KV head up to which the stores use the fused kernels (this and
// WeightedValues). Above it (a long prefill), BLAS over a transient fp32 copy of the
// layer's tokens is faster for many queries at once.
inline constexpr int64_t kFusedMaxQueries = 64;

// queries [heads, m, dim] fp32 -> [heads, m, tokens] fp32.
absl::StatusOr<at::Tensor> AttentionScores(const at::Tensor& queries, const TokenGroupsView& keys);
absl::StatusOr<at::Tensor> AttentionScores(const at::Tensor& queries,
                                           const ChannelBlocksView& keys);
absl::StatusOr<at::Tensor> AttentionScores(const at::Tensor& queries, const DenseRowsView& keys);

// The same, into `scores`: a contiguous fp32 [heads, m, tokens] tensor on the device.
absl::Status AttentionScoresInto(at::Tensor& scores, const at::Tensor& queries,
                                 const QuantizedRows& keys);

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_ATTENTION_SCORES_H_
