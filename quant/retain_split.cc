#include "quant/retain_split.h"

#include <ATen/ATen.h>

#include <vector>

#include "absl/strings/str_format.h"

namespace kvlab::quant {

absl::StatusOr<RetainSplit> SplitRetain(const at::Tensor& keep, int64_t heads, int64_t quantized,
                                        int64_t length, const at::Tensor& block_of,
                                        int64_t blocks) {
  if (keep.dim() != 2 || keep.size(0) != heads || keep.size(1) > length) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "retain expects [%d, m <= %d] indices, got %s", heads, length, c10::str(keep.sizes())));
  }
  const int64_t m = keep.size(1);
  // Indices ascend, so each head's kept residual tokens are its last ones. The residual
  // keeps the fewest any head keeps; a head keeping more sends its extra to quantized
  // storage.
  const at::Tensor residual_counts = (keep >= quantized).sum(1);
  std::vector<at::Tensor> wanted = {residual_counts.min(), residual_counts.max()};
  at::Tensor in_use;
  if (block_of.defined() && blocks > 0 && quantized > 0 && m > 0) {
    // A kept quantized token keeps its block; the other entries mark a spare slot.
    const at::Tensor kept_quantized = keep < quantized;
    const at::Tensor block = at::where(kept_quantized,
                                       block_of.gather(1, keep.clamp_max(quantized - 1)), blocks);
    in_use = at::zeros({blocks + 1}, keep.options().dtype(at::kBool))
                 .index_fill_(0, block.reshape({-1}), true)
                 .narrow(0, 0, blocks);
    wanted.push_back(in_use.sum());
  }
  // One read back from the device for everything the shapes depend on.
  const at::Tensor counts = at::stack(wanted).to(at::kCPU, at::kLong);
  const int64_t* count = counts.data_ptr<int64_t>();
  const int64_t residual_kept = count[0];
  RetainSplit split;
  split.to_quantized = keep.narrow(1, 0, m - residual_kept);
  split.to_residual = (keep.narrow(1, m - residual_kept, residual_kept) - quantized).contiguous();
  split.residual_moves = count[1] > residual_kept;
  if (in_use.defined()) {
    split.blocks_in_use = in_use;
    split.blocks_live = count[2];
  } else if (block_of.defined()) {
    split.blocks_in_use = at::zeros({blocks}, keep.options().dtype(at::kBool));
  }
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
