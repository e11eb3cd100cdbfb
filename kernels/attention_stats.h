// AccumulateAttention: folds a step's attention probabilities into per-token
// statistics for eviction policies, in one pass over the probabilities.
//
//   sums [kv_heads, length] += mean over the group's query heads, sum over the step's
//   queries, of probs [kv_heads, group, queries, length].
#ifndef KVLAB_KERNELS_ATTENTION_STATS_H_
#define KVLAB_KERNELS_ATTENTION_STATS_H_

#include <ATen/core/Tensor.h>

#include "absl/status/status.h"

namespace kvlab::kernels {

// `sums` may be a view with strided rows (a TokenBuffer); probs must be contiguous or
// will be made so. Both fp32 on one device.
absl::Status AccumulateAttention(const at::Tensor& probs, at::Tensor sums);

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_ATTENTION_STATS_H_
