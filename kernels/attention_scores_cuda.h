// CUDA launchers behind attention_scores.h (raw pointers; no ATen).
#ifndef KVLAB_KERNELS_ATTENTION_SCORES_CUDA_H_
#define KVLAB_KERNELS_ATTENTION_SCORES_CUDA_H_

#include <cstdint>

#include "kernels/quantized_rows.h"

namespace kvlab::kernels::cuda {

// scores [heads, m, tokens] = queries [heads, m, dim] x keys^T, all on the device,
// queries and scores contiguous.
// Issues the work on `stream` (a cudaStream_t; nullptr: the default stream) and
// returns nullptr, or the launch error's text.
const char* LaunchAttentionScores(const float* queries, int64_t m, const QuantizedRows& keys,
                                  float* scores, void* stream);

}  // namespace kvlab::kernels::cuda

#endif  // KVLAB_KERNELS_ATTENTION_SCORES_CUDA_H_
