#include "core/rotary_embedding.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>

#include "absl/strings/str_format.h"

namespace kvlab {

namespace {

// Angles in double: positions times frequencies lose precision in fp32 at long range.
// `inverse_frequencies` is on the positions' device.
at::Tensor Angles(const at::Tensor& positions, const at::Tensor& inverse_frequencies) {
  return positions.to(at::kDouble).unsqueeze(-1) * inverse_frequencies;
}

// Whether x fp32 [heads, n, head_dim] and positions contiguous int64 [n] or [heads, n],
// all on the CPU, have every position inside a table of `table_positions` rows.
bool TableCovers(const at::Tensor& x, const at::Tensor& positions, int64_t head_dim,
                 int64_t table_positions) {
  if (!x.is_cpu() || x.scalar_type() != at::kFloat || x.dim() != 3 || x.size(2) != head_dim ||
      !positions.is_cpu() || positions.scalar_type() != at::kLong ||
      !positions.is_contiguous() || positions.dim() < 1 || positions.size(-1) != x.size(1) ||
      (positions.dim() == 2 ? positions.size(0) != x.size(0) : positions.dim() != 1)) {
    return false;
  }
  const int64_t* position = positions.data_ptr<int64_t>();
  for (int64_t i = 0; i < positions.numel(); ++i) {
    if (position[i] < 0 || position[i] >= table_positions) return false;
  }
  return true;
}

// RotaryEmbedding::Apply() for what TableCovers() accepts, reading the tables' cos and
// sin rows ([positions, rotary_dim / 2] fp32) in place: one pass over x, with the
// composed ATen ops' fp32 arithmetic (each product rounded before the sum).
at::Tensor RotateFromTable(const at::Tensor& x, const at::Tensor& positions,
                           const at::Tensor& cos_table, const at::Tensor& sin_table,
                           int64_t rotary_dim, bool interleaved) {
  const at::Tensor input = x.contiguous();
  at::Tensor out = at::empty_like(input);
  const int64_t n = input.size(1), d = input.size(2), half = rotary_dim / 2;
  const bool per_head = positions.dim() == 2;
  const int64_t* position = positions.data_ptr<int64_t>();
  const float* cos_rows = cos_table.data_ptr<float>();
  const float* sin_rows = sin_table.data_ptr<float>();
  const float* in = input.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, input.size(0) * n, 512, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t p = position[per_head ? row : row % n];
      const float* c = cos_rows + p * half;
      const float* s = sin_rows + p * half;
      const float* xr = in + row * d;
      float* yr = o + row * d;
      for (int64_t i = 0; i < half; ++i) {
        const int64_t ia = interleaved ? 2 * i : i, ib = interleaved ? 2 * i + 1 : i + half;
        const float a = xr[ia], b = xr[ib];
        const float a_cos = a * c[i], b_sin = b * s[i], a_sin = a * s[i], b_cos = b * c[i];
        yr[ia] = a_cos - b_sin;
        yr[ib] = a_sin + b_cos;
      }
      for (int64_t i = rotary_dim; i < d; ++i) yr[i] = xr[i];
    }
  });
  return out;
}

}  // namespace

absl::StatusOr<RotaryEmbedding> RotaryEmbedding::Create(int64_t head_dim, int64_t rotary_dim,
                                                        double base, RopeStyle style,
                                                        int64_t table_positions) {
  // RopeInverseFrequencies checks the base and that rotary_dim is even and > 0;
  // WithFrequencies that it fits in head_dim.
  absl::StatusOr<std::vector<double>> inverse_frequencies =
      RopeInverseFrequencies(base, rotary_dim, RopeScaling{});
  if (!inverse_frequencies.ok()) return inverse_frequencies.status();
  return WithFrequencies(head_dim, *std::move(inverse_frequencies), style, table_positions);
}

absl::StatusOr<RotaryEmbedding> RotaryEmbedding::WithFrequencies(
    int64_t head_dim, std::vector<double> inverse_frequencies, RopeStyle style,
    int64_t table_positions) {
  const int64_t rotary_dim = 2 * static_cast<int64_t>(inverse_frequencies.size());
  if (rotary_dim <= 0 || rotary_dim > head_dim) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "rope dimension must be in (0, head_dim=%d], got %d (%d frequencies)", head_dim,
        rotary_dim, inverse_frequencies.size()));
  }
  for (size_t i = 0; i < inverse_frequencies.size(); ++i) {
    if (!std::isfinite(inverse_frequencies[i]) || !(inverse_frequencies[i] > 0.0)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "rope inverse frequency %d must be finite and > 0, got %g", i, inverse_frequencies[i]));
    }
  }
  RotaryEmbedding rope(head_dim, rotary_dim,
                       at::tensor(inverse_frequencies, at::TensorOptions().dtype(at::kDouble)),
                       style);
  if (table_positions > 0) {
    const at::Tensor angles =
        Angles(at::arange(table_positions, at::kLong), rope.inverse_frequencies_);
    rope.table_ = std::make_shared<const Table>(
        Table{angles.cos().to(at::kFloat), angles.sin().to(at::kFloat)});
  }
  return rope;
}

at::Tensor RotaryEmbedding::FrequenciesOn(const c10::Device& device) const {
  if (device.is_cpu()) return inverse_frequencies_;
  std::lock_guard<std::mutex> lock(device_copy_->mutex);
  if (!device_copy_->frequencies.defined() || device_copy_->frequencies.device() != device) {
    device_copy_->frequencies = inverse_frequencies_.to(device);
  }
  return device_copy_->frequencies;
}

std::pair<at::Tensor, at::Tensor> RotaryEmbedding::CosSin(const at::Tensor& positions) const {
  const bool in_table = table_ != nullptr && positions.numel() > 0 && positions.is_cpu() &&
                        positions.max().item<int64_t>() < table_->cos.size(0) &&
                        positions.min().item<int64_t>() >= 0;
  if (in_table) {
    const at::Tensor flat = positions.reshape({-1});
    const auto shape = [&](const at::Tensor& t) {
      std::vector<int64_t> sizes(positions.sizes().begin(), positions.sizes().end());
      sizes.push_back(rotary_dim_ / 2);
      return t.index_select(0, flat).view(sizes);
    };
    return {shape(table_->cos), shape(table_->sin)};
  }
  const at::Tensor angles = Angles(positions, FrequenciesOn(positions.device()));
  return {angles.cos().to(at::kFloat), angles.sin().to(at::kFloat)};
}

at::Tensor RotaryEmbedding::Apply(const at::Tensor& x, const at::Tensor& positions) const {
  // On the CPU, positions the table holds (every decode and chunked step): one pass over
  // x reading the table's rows in place, instead of a dozen ATen ops and two reads of
  // the positions' range back to the host.
  if (table_ != nullptr &&
      TableCovers(x, positions, head_dim_, table_->cos.size(0))) {
    return RotateFromTable(x, positions, table_->cos, table_->sin, rotary_dim_,
                           style_ == RopeStyle::kInterleaved);
  }
  const int64_t half = rotary_dim_ / 2;
  auto [cos, sin] = CosSin(positions);  // [n, half] or [heads, n, half]
  if (cos.dim() == 2) {
    cos = cos.unsqueeze(0);
    sin = sin.unsqueeze(0);
  }
  cos = cos.to(x.scalar_type());
  sin = sin.to(x.scalar_type());

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

absl::StatusOr<LayerRopes> LayerRopes::PerLayer(std::vector<RotaryEmbedding> per_layer) {
  if (per_layer.empty()) return absl::InvalidArgumentError("per-layer ropes: none given");
  for (const RotaryEmbedding& rope : per_layer) {
    if (rope.head_dim() != per_layer[0].head_dim()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "per-layer ropes differ in head_dim (%d and %d)", per_layer[0].head_dim(),
          rope.head_dim()));
    }
  }
  return LayerRopes(std::move(per_layer));
}

}  // namespace kvlab
