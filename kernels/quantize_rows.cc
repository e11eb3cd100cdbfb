#include "kernels/quantize_rows.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "kernels/cuda_build.h"
#include "kernels/quantize_rows_cuda.h"

namespace kvlab::kernels {

namespace internal {
void QuantizeCpu(const cuda::QuantizeArgs& args);
}  // namespace internal

namespace {

absl::StatusOr<QuantizedTokens> Run(const at::Tensor& x, int64_t group, const QuantizeSpec& spec,
                                    bool per_channel) {
  if (!x.defined() || x.dim() != 3 || x.scalar_type() != at::kFloat) {
    return absl::InvalidArgumentError("quantize expects float32 [heads, n, dim]");
  }
  if (spec.bits != 8 && spec.bits != 4) {
    return absl::InvalidArgumentError(absl::StrFormat("bits must be 8 or 4, got %d", spec.bits));
  }
  const int64_t heads = x.size(0), n = x.size(1), dim = x.size(2);
  if (!per_channel && (group < 1 || dim % group != 0)) {
    return absl::InvalidArgumentError(absl::StrFormat("group %d must divide dim %d", group, dim));
  }
  if (!at::isfinite(x).all().item<bool>()) {
    return absl::InvalidArgumentError("cannot quantize values that include NaN or Inf");
  }
  cuda::QuantizeArgs args;
  switch (spec.scale_dtype) {
    case at::kFloat: args.scale_type = ScaleType::kFloat32; break;
    case at::kBFloat16: args.scale_type = ScaleType::kBFloat16; break;
    case at::kHalf: args.scale_type = ScaleType::kFloat16; break;
    default: return absl::InvalidArgumentError("scale dtype must be float32, bfloat16 or float16");
  }
  const at::Tensor input = x.contiguous();
  const int64_t packed = spec.bits == 8 ? dim : (dim + 1) / 2;
  QuantizedTokens out;
  out.levels = at::empty({heads, n, packed}, x.options().dtype(at::kByte));
  const std::vector<int64_t> scale_shape =
      per_channel ? std::vector<int64_t>{heads, 1, dim} : std::vector<int64_t>{heads, n, dim / group};
  out.scale = at::empty(scale_shape, x.options().dtype(spec.scale_dtype));
  if (!spec.symmetric) out.zero = at::empty(scale_shape, x.options().dtype(spec.scale_dtype));
  if (n == 0) return out;
  args.x = input.data_ptr<float>();
  args.levels = out.levels.data_ptr<uint8_t>();
  args.scale = out.scale.data_ptr();
  args.zero = spec.symmetric ? nullptr : out.zero.data_ptr();
  args.bits = spec.bits;
  args.symmetric = spec.symmetric;
  args.per_channel = per_channel;
  args.heads = heads;
  args.tokens = n;
  args.dim = dim;
  args.group = per_channel ? 1 : group;
  if (x.is_cuda()) {
#if KVLAB_WITH_CUDA
    cuda::LaunchQuantize(args, nullptr);
#else
    return CudaNotBuilt();
#endif
  } else {
    internal::QuantizeCpu(args);
  }
  return out;
}

}  // namespace

absl::StatusOr<QuantizedTokens> QuantizeTokenGroups(const at::Tensor& x, int64_t group,
                                                    const QuantizeSpec& spec) {
  return Run(x, group, spec, /*per_channel=*/false);
}

absl::StatusOr<QuantizedTokens> QuantizeChannelBlock(const at::Tensor& x,
                                                     const QuantizeSpec& spec) {
  return Run(x, 0, spec, /*per_channel=*/true);
}

}  // namespace kvlab::kernels
