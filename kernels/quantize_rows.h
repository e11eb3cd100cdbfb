// Quantize-on-append: turns new fp32 tokens into stored levels, scales and zeros, with
// exactly the semantics of kernels/integer_format.h (its ATen code is the reference).
//
//   per token:   groups of `group` channels of each token share a scale and zero;
//   per channel: each channel of the given tokens (one block) shares a scale and zero.
//
// Runs on the input's device: CPU (threaded with at::parallel_for) or CUDA.
#ifndef KVLAB_KERNELS_QUANTIZE_ROWS_H_
#define KVLAB_KERNELS_QUANTIZE_ROWS_H_

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "kernels/integer_format.h"

namespace kvlab::kernels {

struct QuantizedTokens {
  at::Tensor levels;  // uint8 [heads, n, packed bytes]
  at::Tensor scale;   // per token: [heads, n, dim / group]; per channel: [heads, 1, dim]
  at::Tensor zero;    // like scale; undefined when symmetric
};

// x [heads, n, dim] fp32, finite: the caller checks that once where tokens enter a
// store (TensorStore::Append), without stalling a GPU. A NaN or Inf gives meaningless
// levels, never undefined behaviour.
absl::StatusOr<QuantizedTokens> QuantizeTokenGroups(const at::Tensor& x, int64_t group,
                                                    const IntegerFormat& format);
absl::StatusOr<QuantizedTokens> QuantizeChannelBlock(const at::Tensor& x,
                                                     const IntegerFormat& format);

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_QUANTIZE_ROWS_H_
