// CPU implementations behind attention_scores.h and weighted_values.h. Internal to
// kernels/.
#ifndef KVLAB_KERNELS_ATTENTION_OPS_CPU_H_
#define KVLAB_KERNELS_ATTENTION_OPS_CPU_H_

#include <cstdint>

#include "kernels/quantized_rows.h"

namespace kvlab::kernels::internal {

// queries [heads, m, dim] contiguous; scores [heads, m, tokens] contiguous.
void AttentionScoresCpu(const float* queries, int64_t m, const QuantizedRows& keys,
                        float* scores);
// weights [heads, m, tokens] contiguous; out [heads, m, dim] contiguous (overwritten).
void WeightedValuesCpu(const float* weights, int64_t m, const QuantizedRows& values, float* out);

}  // namespace kvlab::kernels::internal

#endif  // KVLAB_KERNELS_ATTENTION_OPS_CPU_H_
