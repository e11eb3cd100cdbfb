// CUDA launcher behind attention_stats.h (raw pointers; no ATen).
#ifndef KVLAB_KERNELS_ATTENTION_STATS_CUDA_H_
#define KVLAB_KERNELS_ATTENTION_STATS_CUDA_H_

#include <cstdint>

namespace kvlab::kernels::cuda {

// sums[h * sums_head_stride + t] += (1 / group) * sum over g, q of
// probs[((h * group + g) * queries + q) * length + t].
// Issues the work on `stream` (a cudaStream_t; nullptr: the default stream) and
// returns nullptr, or the launch error's text.
const char* LaunchAccumulateAttention(const float* probs, int64_t heads, int64_t group,
                                      int64_t queries, int64_t length, float* sums,
                                      int64_t sums_head_stride, void* stream);

}  // namespace kvlab::kernels::cuda

#endif  // KVLAB_KERNELS_ATTENTION_STATS_CUDA_H_
