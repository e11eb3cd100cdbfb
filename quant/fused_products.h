// The attention products of a quantized store: fused kernels over the quantized tokens
// (no dequantized copy), plain matmuls over the small fp32 residual, joined.
#ifndef KVLAB_QUANT_FUSED_PRODUCTS_H_
#define KVLAB_QUANT_FUSED_PRODUCTS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "absl/status/statusor.h"

#include "kernels/cache_views.h"

namespace kvlab::quant {

// queries [heads, m, dim] x [quantized; residual]^T -> [heads, m, quantized + residual].
// `quantized` tokens are described by `view` (which may be empty when quantized is 0).
template <typename View>
absl::StatusOr<at::Tensor> FusedMultiplyTransposed(const at::Tensor& queries, const View& view, int64_t quantized,
                                   const at::Tensor& residual);

// weights [heads, m, quantized + residual] x [quantized; residual] -> [heads, m, dim].
template <typename View>
absl::StatusOr<at::Tensor> FusedMultiply(const at::Tensor& weights, const View& view, int64_t quantized,
                         const at::Tensor& residual);

}  // namespace kvlab::quant

#endif  // KVLAB_QUANT_FUSED_PRODUCTS_H_
