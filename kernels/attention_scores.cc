#include "kernels/attention_scores.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "kernels/attention_ops_cpu.h"
#include "kernels/attention_scores_cuda.h"
#include "kernels/cuda_build.h"
#include "kernels/cuda_stream.h"

namespace kvlab::kernels {

namespace {

absl::StatusOr<at::Tensor> Run(const at::Tensor& queries, const QuantizedRows& keys) {
  if (!queries.defined() || queries.dim() != 3) {
    return absl::InvalidArgumentError("queries must be [heads, m, dim]");
  }
  at::Tensor scores = at::empty({keys.heads, queries.size(1), keys.tokens},
                                queries.options().dtype(at::kFloat));
  KVLAB_RETURN_IF_ERROR(AttentionScoresInto(scores, queries, keys));
  return scores;
}

}  // namespace

absl::Status AttentionScoresInto(at::Tensor& scores, const at::Tensor& queries,
                                 const QuantizedRows& keys) {
  // The products read dense rows as fp32 only (DecodeAttention also reads fp16, bf16).
  if (!IsQuantized(keys.encoding) && keys.encoding != Encoding::kFloat32) {
    return absl::InvalidArgumentError("dense rows must be float32");
  }
  if (queries.scalar_type() != at::kFloat || queries.dim() != 3 ||
      queries.size(0) != keys.heads || queries.size(2) != keys.dim) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "queries must be float32 [%d, m, %d], got %s", keys.heads, keys.dim,
        c10::str(queries.sizes())));
  }
  const int64_t m = queries.size(1);
  if (!scores.is_contiguous() || scores.scalar_type() != at::kFloat ||
      scores.sizes() != at::IntArrayRef({keys.heads, m, keys.tokens}) ||
      scores.device() != queries.device()) {
    return absl::InvalidArgumentError("scores must be contiguous float32 [heads, m, tokens]");
  }
  if (keys.tokens == 0 || m == 0) return absl::OkStatus();
  const at::Tensor q = queries.contiguous();
  if (q.is_cuda()) {
#if KVLAB_WITH_CUDA
    KVLAB_RETURN_IF_ERROR(CudaLaunchStatus(
        "attention scores", cuda::LaunchAttentionScores(q.data_ptr<float>(), m, keys,
                                                        scores.data_ptr<float>(),
                                                        CurrentCudaStream(q.device()))));
#else
    return CudaNotBuilt();
#endif
  } else {
    internal::AttentionScoresCpu(q.data_ptr<float>(), m, keys, scores.data_ptr<float>());
  }
  return absl::OkStatus();
}

absl::StatusOr<at::Tensor> AttentionScores(const at::Tensor& queries, const TokenGroupsView& keys) {
  KVLAB_ASSIGN_OR_RETURN(const QuantizedRows rows, Describe(keys));
  return Run(queries, rows);
}

absl::StatusOr<at::Tensor> AttentionScores(const at::Tensor& queries,
                                           const ChannelBlocksView& keys) {
  KVLAB_ASSIGN_OR_RETURN(const QuantizedRows rows, Describe(keys));
  return Run(queries, rows);
}

absl::StatusOr<at::Tensor> AttentionScores(const at::Tensor& queries, const DenseRowsView& keys) {
  KVLAB_ASSIGN_OR_RETURN(const QuantizedRows rows, Describe(keys));
  return Run(queries, rows);
}

}  // namespace kvlab::kernels
