#include "core/reference_attention.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

namespace kvlab::testing {

at::Tensor ReferenceRope(const at::Tensor& x, const at::Tensor& positions, double base,
                         int64_t rotary_dim, bool interleaved) {
  const at::Tensor in = x.to(at::kDouble).contiguous();
  at::Tensor out = in.clone();
  const int64_t heads = in.size(0), n = in.size(1), half = rotary_dim / 2;
  auto a_in = in.accessor<double, 3>();
  auto a_out = out.accessor<double, 3>();
  const at::Tensor pos = positions.to(at::kLong).contiguous();
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t t = 0; t < n; ++t) {
      const double position = static_cast<double>(pos[t].item<int64_t>());
      for (int64_t p = 0; p < half; ++p) {
        const double angle = position * std::pow(base, -2.0 * p / rotary_dim);
        const int64_t i = interleaved ? 2 * p : p;
        const int64_t j = interleaved ? 2 * p + 1 : p + half;
        const double a = a_in[h][t][i], b = a_in[h][t][j];
        a_out[h][t][i] = a * std::cos(angle) - b * std::sin(angle);
        a_out[h][t][j] = a * std::sin(angle) + b * std::cos(angle);
      }
    }
  }
  return out.to(at::kFloat);
}

at::Tensor ReferenceAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              at::Tensor* probs) {
  const at::Tensor qd = q.to(at::kDouble).contiguous();
  const at::Tensor kd = k.to(at::kDouble).contiguous();
  const at::Tensor vd = v.to(at::kDouble).contiguous();
  const int64_t q_heads = q.size(0), n = q.size(1), d = q.size(2);
  const int64_t kv_heads = k.size(0), t = k.size(1);
  const int64_t group = q_heads / kv_heads;
  at::Tensor out = at::zeros({q_heads, n, d}, at::kDouble);
  at::Tensor p_all = at::zeros({q_heads, n, t}, at::kDouble);
  auto aq = qd.accessor<double, 3>();
  auto ak = kd.accessor<double, 3>();
  auto av = vd.accessor<double, 3>();
  auto ao = out.accessor<double, 3>();
  auto ap = p_all.accessor<double, 3>();
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  for (int64_t h = 0; h < q_heads; ++h) {
    const int64_t kvh = h / group;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t visible = t - n + i + 1;
      std::vector<double> scores(visible);
      double max_score = -1e300;
      for (int64_t j = 0; j < visible; ++j) {
        double s = 0;
        for (int64_t c = 0; c < d; ++c) s += aq[h][i][c] * ak[kvh][j][c];
        scores[j] = s * scale;
        max_score = std::max(max_score, scores[j]);
      }
      double total = 0;
      for (double& s : scores) total += (s = std::exp(s - max_score));
      for (int64_t j = 0; j < visible; ++j) {
        ap[h][i][j] = scores[j] / total;
        for (int64_t c = 0; c < d; ++c) ao[h][i][c] += ap[h][i][j] * av[kvh][j][c];
      }
    }
  }
  if (probs != nullptr) *probs = p_all.to(at::kFloat);
  return out.to(at::kFloat);
}

}  // namespace kvlab::testing
