#include "kernels/weighted_values.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "kernels/attention_ops_cpu.h"
#include "kernels/cuda_build.h"
#include "kernels/cuda_stream.h"
#include "kernels/weighted_values_cuda.h"

namespace kvlab::kernels {

namespace {

absl::StatusOr<at::Tensor> Run(const at::Tensor& weights, const QuantizedRows& values) {
  if (!weights.defined() || weights.dim() != 3) {
    return absl::InvalidArgumentError("weights must be [heads, m, tokens]");
  }
  at::Tensor out = at::empty({values.heads, weights.size(1), values.dim},
                             weights.options().dtype(at::kFloat));
  KVLAB_RETURN_IF_ERROR(WeightedValuesInto(out, weights, values));
  return out;
}

}  // namespace

absl::Status WeightedValuesInto(at::Tensor& out, const at::Tensor& weights,
                                const QuantizedRows& values) {
  // The products read dense rows as fp32 only (DecodeAttention also reads fp16, bf16).
  if (!IsQuantized(values.encoding) && values.encoding != Encoding::kFloat32) {
    return absl::InvalidArgumentError("dense rows must be float32");
  }
  if (weights.scalar_type() != at::kFloat || weights.dim() != 3 ||
      weights.size(0) != values.heads || weights.size(2) != values.tokens) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "weights must be float32 [%d, m, %d], got %s", values.heads, values.tokens,
        c10::str(weights.sizes())));
  }
  const int64_t m = weights.size(1);
  if (!out.is_contiguous() || out.scalar_type() != at::kFloat ||
      out.sizes() != at::IntArrayRef({values.heads, m, values.dim}) ||
      out.device() != weights.device()) {
    return absl::InvalidArgumentError("out must be contiguous float32 [heads, m, dim]");
  }
  if (m == 0) return absl::OkStatus();
  if (values.tokens == 0) {
    out.zero_();
    return absl::OkStatus();
  }
  const at::Tensor w = weights.contiguous();
  if (w.is_cuda()) {
#if KVLAB_WITH_CUDA
    KVLAB_RETURN_IF_ERROR(CudaLaunchStatus(
        "weighted values", cuda::LaunchWeightedValues(w.data_ptr<float>(), m, values,
                                                      out.data_ptr<float>(),
                                                      CurrentCudaStream(w.device()))));
#else
    return CudaNotBuilt();
#endif
  } else {
    internal::WeightedValuesCpu(w.data_ptr<float>(), m, values, out.data_ptr<float>());
  }
  return absl::OkStatus();
}

absl::StatusOr<at::Tensor> WeightedValues(const at::Tensor& weights,
                                          const TokenGroupsView& values) {
  KVLAB_ASSIGN_OR_RETURN(const QuantizedRows rows, Describe(values));
  return Run(weights, rows);
}

absl::StatusOr<at::Tensor> WeightedValues(const at::Tensor& weights,
                                          const ChannelBlocksView& values) {
  KVLAB_ASSIGN_OR_RETURN(const QuantizedRows rows, Describe(values));
  return Run(weights, rows);
}

absl::StatusOr<at::Tensor> WeightedValues(const at::Tensor& weights, const DenseRowsView& values) {
  KVLAB_ASSIGN_OR_RETURN(const QuantizedRows rows, Describe(values));
  return Run(weights, rows);
}

}  // namespace kvlab::kernels
