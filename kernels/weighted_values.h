// WeightedValues: attention weights times quantized values, dequantization fused into
// the accumulation (no dequantized copy of the values is made).
//
//   out = WeightedValues(weights, values_view);   // [heads, m, dim] fp32
//
// Runs on the tensors' device: CPU (vectorised, threaded with at::parallel_for) or
// CUDA (kernels/weighted_values_cuda.cu).
#ifndef KVLAB_KERNELS_WEIGHTED_VALUES_H_
#define KVLAB_KERNELS_WEIGHTED_VALUES_H_

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "kernels/cache_views.h"

namespace kvlab::kernels {

// weights [heads, m, tokens] fp32 -> [heads, m, dim] fp32.
absl::StatusOr<at::Tensor> WeightedValues(const at::Tensor& weights,
                                          const TokenGroupsView& values);
absl::StatusOr<at::Tensor> WeightedValues(const at::Tensor& weights,
                                          const ChannelBlocksView& values);
absl::StatusOr<at::Tensor> WeightedValues(const at::Tensor& weights, const DenseRowsView& values);

// The same, into `out`: a contiguous fp32 [heads, m, dim] tensor on the device.
absl::Status WeightedValuesInto(at::Tensor& out, const at::Tensor& weights,
                                const QuantizedRows& values);

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_WEIGHTED_VALUES_H_
