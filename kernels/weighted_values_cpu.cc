#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/attention_ops_cpu.h"
#include "kernels/cpu_clones.h"
#include "kernels/row_dequantizer.h"

namespace kvlab::kernels::internal {

namespace {

constexpr int64_t kTokensPerTask = 256;

// acc [m, dim] += the weighted values of tokens [first, last) of head h. The hot loop:
// compiled for AVX-512, AVX2 and the baseline, the variant picked at load time.
template <Encoding kType>
KVLAB_CPU_CLONES void AccumulateTokens(const float* w, int64_t m, const QuantizedRows& values,
                                       int64_t h, int64_t first, int64_t last, float* row,
                                       float* acc) {
  const int64_t dim = values.dim, tokens = values.tokens;
  for (int64_t t = first; t < last; ++t) {
    const float* row_values = DequantizeRow<kType>(values, h, t, row);
    for (int64_t i = 0; i < m; ++i) {
      const float wi = w[i * tokens + t];
      float* ai = acc + i * dim;
      for (int64_t c = 0; c < dim; ++c) ai[c] += wi * row_values[c];
    }
  }
}

template <Encoding kType>
void Accumulate(const float* weights, int64_t m, const QuantizedRows& values, float* out) {
  const int64_t dim = values.dim, tokens = values.tokens, heads = values.heads;
  const int64_t tasks_per_head = std::max<int64_t>(1, (tokens + kTokensPerTask - 1) / kTokensPerTask);
  // Each task sums its tokens into its own partial [m, dim]; partials are added after.
  std::vector<float> partials(heads * tasks_per_head * m * dim, 0.0f);
  at::parallel_for(0, heads * tasks_per_head, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> row(dim);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t h = task / tasks_per_head;
      const int64_t first = (task % tasks_per_head) * kTokensPerTask;
      const int64_t last = std::min(tokens, first + kTokensPerTask);
      AccumulateTokens<kType>(weights + h * m * tokens, m, values, h, first, last, row.data(),
                              partials.data() + task * m * dim);
    }
  });
  for (int64_t h = 0; h < heads; ++h) {
    float* dst = out + h * m * dim;
    std::memcpy(dst, partials.data() + h * tasks_per_head * m * dim, m * dim * sizeof(float));
    for (int64_t task = 1; task < tasks_per_head; ++task) {
      const float* src = partials.data() + (h * tasks_per_head + task) * m * dim;
      for (int64_t j = 0; j < m * dim; ++j) dst[j] += src[j];
    }
  }
}

}  // namespace

void WeightedValuesCpu(const float* weights, int64_t m, const QuantizedRows& values, float* out) {
  switch (values.scale_encoding) {
    case Encoding::kFloat32: Accumulate<Encoding::kFloat32>(weights, m, values, out); break;
    case Encoding::kBFloat16: Accumulate<Encoding::kBFloat16>(weights, m, values, out); break;
    case Encoding::kFloat16: Accumulate<Encoding::kFloat16>(weights, m, values, out); break;
    default: break;  // Scales are floats (cache_views.cc checks).
  }
}

}  // namespace kvlab::kernels::internal
