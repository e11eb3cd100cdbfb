// Dequantization of ggml tensor blocks to fp32.
//
// Supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, and Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K,
// Q6_K (layouts in block_dequantizers.h). Block layouts (32 elements per block):
//   Q8_0: fp16 d, int8 q[32];              x[i] = d * q[i]
//   Q4_0: fp16 d, uint8 qs[16];            x[i] = d * (nibble(i) - 8)
//   Q4_1: fp16 d, fp16 m, uint8 qs[16];    x[i] = d * nibble(i) + m
// where nibble(i) is the low nibble of qs[i] for i < 16 and the high nibble of
// qs[i - 16] otherwise.
#ifndef KVLAB_EVAL_GGUF_DEQUANTIZE_H_
#define KVLAB_EVAL_GGUF_DEQUANTIZE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "eval/gguf/gguf_types.h"

namespace kvlab::gguf {

// True if DequantizeToFloat() handles `type`.
bool IsDequantizable(TensorType type);
// The names of every type DequantizeToFloat() handles, in type-id order, for messages:
// "F32, F16, Q4_0, ...".
std::string DequantizableTypeNames();

// Dequantizes `dst.size()` elements stored as `type` in `src`. `dst.size()` must be a
// multiple of the type's block size and `src` must hold exactly that many blocks.
// Fails with Unimplemented for a type kvlab cannot dequantize and InvalidArgument for
// a size mismatch.
absl::Status DequantizeToFloat(TensorType type, absl::Span<const uint8_t> src,
                               absl::Span<float> dst);

}  // namespace kvlab::gguf

#endif  // KVLAB_EVAL_GGUF_DEQUANTIZE_H_
