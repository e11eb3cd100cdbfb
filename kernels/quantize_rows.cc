#include "kernels/quantize_rows.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "kernels/cache_views.h"
#include "kernels/cuda_build.h"
#include "kernels/cuda_stream.h"
#include "kernels/quantize_job.h"
#include "kernels/quantize_rows_cuda.h"

namespace kvlab::kernels {

namespace internal {
void QuantizeCpu(const QuantizeJob& job);
}  // namespace internal

namespace {

absl::StatusOr<QuantizedTokens> Run(const at::Tensor& x, int64_t group, const IntegerFormat& format,
                                    bool per_channel) {
  if (!x.defined() || x.dim() != 3 || x.scalar_type() != at::kFloat) {
    return absl::InvalidArgumentError("quantize expects float32 [heads, n, dim]");
  }
  if (format.bits != 8 && format.bits != 4 && format.bits != 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bits must be 8, 4 or 2, got %d", format.bits));
  }
  if (format.bits == 2 && x.is_cuda()) {
    return absl::InvalidArgumentError("2-bit quantization runs on the CPU only");
  }
  const int64_t heads = x.size(0), n = x.size(1), dim = x.size(2);
  if (!per_channel && (group < 1 || dim % group != 0)) {
    return absl::InvalidArgumentError(absl::StrFormat("group %d must divide dim %d", group, dim));
  }
  if (format.scale_dtype != at::kFloat && format.scale_dtype != at::kBFloat16 &&
      format.scale_dtype != at::kHalf) {
    return absl::InvalidArgumentError("scale dtype must be float32, bfloat16 or float16");
  }
  const at::Tensor input = x.contiguous();
  const int64_t packed = format.PackedBytes(dim);
  QuantizedTokens out;
  out.levels = at::empty({heads, n, packed}, x.options().dtype(at::kByte));
  const std::vector<int64_t> scale_shape =
      per_channel ? std::vector<int64_t>{heads, 1, dim} : std::vector<int64_t>{heads, n, dim / group};
  out.scale = at::empty(scale_shape, x.options().dtype(format.scale_dtype));
  if (!format.symmetric) out.zero = at::empty(scale_shape, x.options().dtype(format.scale_dtype));
  if (n == 0) return out;
  QuantizeJob job;
  job.x = input.data_ptr<float>();
  // The output as the rows it becomes. A block's per-channel scales are one row that
  // every token reads: expanded over the tokens (row stride 0), groups of one channel.
  const auto per_token = [&](const at::Tensor& t) {
    return per_channel && t.defined() ? t.expand({heads, n, dim}) : t;
  };
  KVLAB_ASSIGN_OR_RETURN(
      job.out, Describe(TokenGroupsView{format, dim, per_channel ? 1 : group, out.levels,
                                        per_token(out.scale), per_token(out.zero)}));
  job.per_channel = per_channel;
  job.ggml = format.rounding == IntegerFormat::Rounding::kGgml;
  if (x.is_cuda()) {
#if KVLAB_WITH_CUDA
    KVLAB_RETURN_IF_ERROR(CudaLaunchStatus(
        "quantize rows", cuda::LaunchQuantize(job, CurrentCudaStream(x.device()))));
#else
    return CudaNotBuilt();
#endif
  } else {
    internal::QuantizeCpu(job);
  }
  return out;
}

}  // namespace

absl::StatusOr<QuantizedTokens> QuantizeTokenGroups(const at::Tensor& x, int64_t group,
                                                    const IntegerFormat& format) {
  return Run(x, group, format, /*per_channel=*/false);
}

absl::StatusOr<QuantizedTokens> QuantizeChannelBlock(const at::Tensor& x,
                                                     const IntegerFormat& format) {
  return Run(x, 0, format, /*per_channel=*/true);
}

}  // namespace kvlab::kernels
