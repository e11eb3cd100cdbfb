#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "kernels/attention_ops_cpu.h"
#include "kernels/cpu_clones.h"
#include "kernels/row_dequantizer.h"

namespace kvlab::kernels::internal {

namespace {

// Tokens per work item: large enough to amortise scheduling, small enough to spread
// one head over both cores.
constexpr int64_t kTokensPerTask = 256;

// Scores of tokens [first, last) of head h for every query row. The hot loop: compiled
// for AVX-512, AVX2 and the baseline, the variant picked at load time for the CPU that
// runs it (kvlab's build targets no particular CPU).
template <Encoding kType>
KVLAB_CPU_CLONES void ScoreTokens(const float* q, int64_t m, const QuantizedRows& keys,
                                  int64_t h, int64_t first, int64_t last, float* row,
                                  float* out) {
  const int64_t dim = keys.dim, tokens = keys.tokens;
  for (int64_t t = first; t < last; ++t) {
    const float* row_values = DequantizeRow<kType>(keys, h, t, row);
    for (int64_t i = 0; i < m; ++i) {
      const float* qi = q + i * dim;
      float dot = 0.0f;
      for (int64_t c = 0; c < dim; ++c) dot += qi[c] * row_values[c];
      out[i * tokens + t] = dot;
    }
  }
}

template <Encoding kType>
void Scores(const float* queries, int64_t m, const QuantizedRows& keys, float* scores) {
  const int64_t dim = keys.dim, tokens = keys.tokens;
  const int64_t tasks_per_head = (tokens + kTokensPerTask - 1) / kTokensPerTask;
  at::parallel_for(0, keys.heads * tasks_per_head, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> row(dim);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t h = task / tasks_per_head;
      const int64_t first = (task % tasks_per_head) * kTokensPerTask;
      const int64_t last = std::min(tokens, first + kTokensPerTask);
      ScoreTokens<kType>(queries + h * m * dim, m, keys, h, first, last, row.data(),
                         scores + h * m * tokens);
    }
  });
}

}  // namespace

void AttentionScoresCpu(const float* queries, int64_t m, const QuantizedRows& keys,
                        float* scores) {
  switch (keys.scale_encoding) {
    case Encoding::kFloat32: Scores<Encoding::kFloat32>(queries, m, keys, scores); break;
    case Encoding::kBFloat16: Scores<Encoding::kBFloat16>(queries, m, keys, scores); break;
    case Encoding::kFloat16: Scores<Encoding::kFloat16>(queries, m, keys, scores); break;
    default: break;  // Scales are floats (cache_views.cc checks).
  }
}

}  // namespace kvlab::kernels::internal
