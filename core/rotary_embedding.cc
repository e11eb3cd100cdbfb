#include "core/rotary_embedding.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"

namespace kvlab {

absl::StatusOr<RotaryEmbedding> RotaryEmbedding::Create(int64_t head_dim, int64_t rotary_dim,
                                                        double base, RopeStyle style) {
  if (rotary_dim <= 0 || rotary_dim > head_dim || rotary_dim % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "rope dimension must be even and in (0, head_dim=%d], got %d", head_dim, rotary_dim));
  }
  if (!(base > 1.0)) {
    return absl::InvalidArgumentError(absl::StrFormat("rope base must be > 1, got %g", base));
  }
  return RotaryEmbedding(head_dim, rotary_dim, base, style);
}

at::Tensor RotaryEmbedding::Apply(const at::Tensor& x, const at::Tensor& positions) const {
  const int64_t half = rotary_dim_ / 2;
  // Angles in double: positions times frequencies lose precision in fp32 at long range.
  const auto double_options = at::TensorOptions().dtype(at::kDouble).device(x.device());
  const at::Tensor inv_freq =
      at::pow(base_, at::arange(0, half, double_options) * (-2.0 / rotary_dim_));
  at::Tensor angles = positions.to(at::kDouble).unsqueeze(-1) * inv_freq;  // [.., n, half]
  if (angles.dim() == 2) angles = angles.unsqueeze(0);                      // [1, n, half]
  const at::Tensor cos = angles.cos().to(x.scalar_type());
  const at::Tensor sin = angles.sin().to(x.scalar_type());

  const at::Tensor rotary = x.narrow(-1, 0, rotary_dim_);
  at::Tensor a, b;  // The two members of each rotated pair, [heads, n, half].
  if (style_ == RopeStyle::kInterleaved) {
    const at::Tensor pairs = rotary.unflatten(-1, {half, 2});
    a = pairs.select(-1, 0);
    b = pairs.select(-1, 1);
  } else {
    a = rotary.narrow(-1, 0, half);
    b = rotary.narrow(-1, half, half);
  }
  const at::Tensor rotated_a = a * cos - b * sin;
  const at::Tensor rotated_b = a * sin + b * cos;
  at::Tensor rotated = style_ == RopeStyle::kInterleaved
                           ? at::stack({rotated_a, rotated_b}, -1).flatten(-2)
                           : at::cat({rotated_a, rotated_b}, -1);
  if (rotary_dim_ == head_dim_) return rotated;
  return at::cat({rotated, x.narrow(-1, rotary_dim_, head_dim_ - rotary_dim_)}, -1);
}

}  // namespace kvlab
