// CUDA launchers behind quantize_rows.h (raw pointers; no ATen).
#ifndef KVLAB_KERNELS_QUANTIZE_ROWS_CUDA_H_
#define KVLAB_KERNELS_QUANTIZE_ROWS_CUDA_H_

#include <cstdint>

#include "kernels/quantize_job.h"

namespace kvlab::kernels::cuda {

// Issues the work on `stream` (a cudaStream_t; nullptr: the default stream) and
// returns nullptr, or the launch error's text.
const char* LaunchQuantize(const QuantizeJob& job, void* stream);

}  // namespace kvlab::kernels::cuda

#endif  // KVLAB_KERNELS_QUANTIZE_ROWS_CUDA_H_
