#include "quant/retain_split.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"

namespace kvlab::quant {

absl::StatusOr<RetainSplit> SplitRetain(const at::Tensor& keep, int64_t heads, int64_t quantized,
                                        int64_t length) {
  if (keep.dim() != 2 || keep.size(0) != heads || keep.size(1) > length) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "retain expects [%d, m <= %d] indices, got %s", heads, length, c10::str(keep.sizes())));
  }
  const int64_t m = keep.size(1);
  const int64_t residual_kept = (keep >= quantized).sum(1).min().item<int64_t>();
  RetainSplit split;
  split.to_quantized = keep.narrow(1, 0, m - residual_kept);
  split.to_residual = (keep.narrow(1, m - residual_kept, residual_kept) - quantized).contiguous();
  split.residual_moves = (split.to_quantized >= quantized).any().item<bool>();
  return split;
}

absl::Status DropOldest(int64_t n, TokenBuffer* residual) {
  if (n < 0 || n > residual->length()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cannot drop %d of the residual's %d tokens", n, residual->length()));
  }
  const at::Tensor live = residual->View();
  const int64_t rest = residual->length() - n;
  const auto options = at::TensorOptions().dtype(at::kLong).device(live.device());
  const at::Tensor keep =
      at::arange(n, n + rest, options).unsqueeze(0).expand({live.size(0), rest}).contiguous();
  return residual->Retain(keep);
}

}  // namespace kvlab::quant
