// DecodeAttention: one decode step of attention over a cache, scores, softmax and
// weighted values in one pass, with the eviction statistics from the same pass.
//
//   DecodeSegment quantized{TokenGroupsView{...}, TokenGroupsView{...}};
//   DecodeSegment residual{DenseRowsView{keys_fp32}, DenseRowsView{values_fp32}};
//   KVLAB_RETURN_IF_ERROR(DecodeAttention(queries, {quantized, residual}, 1 / sqrt(dim),
//                                         out, column_sums));
//
// queries [kv_heads, group, dim] fp32: the group's query rows of each KV head, one
// decode step (no causal mask: every held token is visible). The segments are runs of
// the head's tokens in order; out [kv_heads, group, dim] fp32 is overwritten.
// column_sums [kv_heads, tokens] fp32 (optional, contiguous rows) += each token's
// probability averaged over the group, as AccumulateAttention does.
//
// CUDA: int8, int4 (per-token groups or per-channel blocks, fp32/bf16/fp16 scales),
// fp32, fp16 and bf16 rows go through the fused split-and-reduce kernels
// (decode_attention_cuda.cu), on PyTorch's current stream. Other shapes, and the
// CPU, compose AttentionScores, softmax and WeightedValues.
#ifndef KVLAB_KERNELS_DECODE_ATTENTION_H_
#define KVLAB_KERNELS_DECODE_ATTENTION_H_

#include <ATen/core/Tensor.h>

#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "kernels/cache_views.h"
#include "kernels/decode_attention_cuda.h"

namespace kvlab::kernels {

// DenseRowsView rows may be fp32, fp16 or bf16 here.
using CacheRowsView = std::variant<TokenGroupsView, ChannelBlocksView, DenseRowsView>;

// Keys and values of one run of tokens (the same count of each).
struct DecodeSegment {
  CacheRowsView keys;
  CacheRowsView values;
};

// Pairs a key store's runs with a value store's (each in token order, with the same
// total) into segments, cutting wherever a run on either side ends: keys may be held
// as quantized blocks and a residual of one length, values with a residual of another.
// Empty runs are dropped. InvalidArgument when the totals differ.
absl::StatusOr<std::vector<DecodeSegment>> PairRuns(absl::Span<const CacheRowsView> keys,
                                                    absl::Span<const CacheRowsView> values);

absl::Status DecodeAttention(const at::Tensor& queries, absl::Span<const DecodeSegment> segments,
                             double scale, at::Tensor& out, at::Tensor column_sums = {});

// One decode step as the fused CUDA kernels take it, its segments described for them
// once: a caller that must know whether the fused kernels take a step (and fall back
// to something else if not) asks once and then runs what it prepared.
class FusedDecodeStep {
 public:
  // FailedPrecondition says why the fused kernels cannot take the step (not on a CUDA
  // device, a format or shape they do not read, a build without CUDA); InvalidArgument
  // a malformed call. `queries` as for DecodeAttention.
  static absl::StatusOr<FusedDecodeStep> Prepare(const at::Tensor& queries,
                                                 absl::Span<const DecodeSegment> segments);

  // DecodeAttention's result for the prepared step. The segments' views must still be
  // valid (no Append or Retain on their stores since Prepare).
  absl::Status Run(double scale, at::Tensor& out, at::Tensor column_sums = {}) const;

 private:
  FusedDecodeStep() = default;

  at::Tensor queries_;  // contiguous
  std::vector<cuda::DecodeSegmentRows> rows_;
  int64_t tokens_ = 0;
};

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_DECODE_ATTENTION_H_
