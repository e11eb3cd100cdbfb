#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "kernels/attention_ops_cpu.h"
#include "kernels/row_dequantizer.h"

namespace kvlab::kernels::internal {

namespace {

// Tokens per work item: large enough to amortise scheduling, small enough to spread
// one head over both cores.
constexpr int64_t kTokensPerTask = 256;

template <ScaleType kType>
void Scores(const float* queries, int64_t m, const QuantizedRows& keys, float* scores) {
  const int64_t dim = keys.dim, tokens = keys.tokens;
  const int64_t tasks_per_head = (tokens + kTokensPerTask - 1) / kTokensPerTask;
  at::parallel_for(0, keys.heads * tasks_per_head, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> row(dim);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t h = task / tasks_per_head;
      const int64_t first = (task % tasks_per_head) * kTokensPerTask;
      const int64_t last = std::min(tokens, first + kTokensPerTask);
      const float* q = queries + h * m * dim;
      float* out = scores + h * m * tokens;
      for (int64_t t = first; t < last; ++t) {
        const float* row_values = DequantizeRow<kType>(keys, h, t, row.data());
        for (int64_t i = 0; i < m; ++i) {
          const float* qi = q + i * dim;
          float dot = 0.0f;
          for (int64_t c = 0; c < dim; ++c) dot += qi[c] * row_values[c];
          out[i * tokens + t] = dot;
        }
      }
    }
  });
}

}  // namespace

void AttentionScoresCpu(const float* queries, int64_t m, const QuantizedRows& keys,
                        float* scores) {
  switch (keys.scale_type) {
    case ScaleType::kFloat32: Scores<ScaleType::kFloat32>(queries, m, keys, scores); break;
    case ScaleType::kBFloat16: Scores<ScaleType::kBFloat16>(queries, m, keys, scores); break;
    case ScaleType::kFloat16: Scores<ScaleType::kFloat16>(queries, m, keys, scores); break;
  }
}

}  // namespace kvlab::kernels::internal
