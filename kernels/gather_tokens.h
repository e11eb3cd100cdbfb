// GatherTokens: compacts a TokenBuffer in place after eviction.
//
// buffer [heads, capacity, ...] holds `length` live tokens; keep [heads, m] lists, per
// head, the tokens to keep in ascending order. Afterwards tokens 0..m-1 of each head
// are the kept ones, in that order. Ascending order makes the CPU copy safe in place
// (a token only ever moves towards the front); the CUDA path gathers through a
// scratch buffer.
#ifndef KVLAB_KERNELS_GATHER_TOKENS_H_
#define KVLAB_KERNELS_GATHER_TOKENS_H_

#include <ATen/core/Tensor.h>

#include "absl/status/status.h"

namespace kvlab::kernels {

// On the CPU, out-of-range or non-ascending indices are an InvalidArgument error. The
// CUDA path does not read the indices back to check them: its callers pass what
// EvictingKvCache already sorted and range-checked.
absl::Status GatherTokens(at::Tensor& buffer, int64_t length, const at::Tensor& keep);

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_GATHER_TOKENS_H_
