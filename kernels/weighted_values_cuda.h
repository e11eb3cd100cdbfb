// CUDA launchers behind weighted_values.h (raw pointers; no ATen).
#ifndef KVLAB_KERNELS_WEIGHTED_VALUES_CUDA_H_
#define KVLAB_KERNELS_WEIGHTED_VALUES_CUDA_H_

#include <cstdint>

#include "kernels/quantized_rows.h"

namespace kvlab::kernels::cuda {

// out [heads, m, dim] = weights [heads, m, tokens] x values, all on the device,
// weights and out contiguous. The launcher zeroes `out` first.
// Issues the work on `stream` (a cudaStream_t; nullptr: the default stream) and
// returns nullptr, or the launch error's text.
const char* LaunchWeightedValues(const float* weights, int64_t m, const QuantizedRows& values,
                                 float* out, void* stream);

}  // namespace kvlab::kernels::cuda

#endif  // KVLAB_KERNELS_WEIGHTED_VALUES_CUDA_H_
