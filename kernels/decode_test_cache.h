// Random caches in every format DecodeAttention reads, with their dequantized values,
// for the CPU tests and the GPU checks.
#ifndef KVLAB_KERNELS_DECODE_TEST_CACHE_H_
#define KVLAB_KERNELS_DECODE_TEST_CACHE_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/decode_attention.h"

namespace kvlab::kernels::testing {

enum class CacheKind {
  kInt8Tokens,        // int8 per-token groups, fp16 scales, asymmetric
  kInt4Tokens,        // int4 per-token groups, bf16 scales, asymmetric
  kInt4SymTokens,     // int4 per-token groups, fp32 scales, symmetric
  kInt4ChannelKeys,   // KIVI: int4 keys per channel over 16-token blocks, values per token
  kFloat32,
  kFloat16,
  kBFloat16,
};

std::string KindName(CacheKind kind);

struct TestCache {
  std::vector<DecodeSegment> segments;
  at::Tensor keys;    // fp32 [heads, tokens, dim]: what the segments read back
  at::Tensor values;
};

// `tokens` in the kind's format, then `residual` fp32 tokens as a second segment
// (none if 0). Quantized groups are `group` channels. Everything on `device`; the
// quantized tensors sit inside larger buffers, as TokenBuffer views do.
TestCache MakeTestCache(CacheKind kind, int64_t heads, int64_t tokens, int64_t dim,
                        int64_t group, int64_t residual, const c10::Device& device);

// The unfused reference: softmax(q k^T * scale) v over the dequantized tokens, and the
// probabilities averaged over the group. queries [heads, group, dim].
struct ReferenceAttention {
  at::Tensor out;          // [heads, group, dim]
  at::Tensor column_sums;  // [heads, tokens]
};
ReferenceAttention Reference(const at::Tensor& queries, const TestCache& cache, double scale);

}  // namespace kvlab::kernels::testing

#endif  // KVLAB_KERNELS_DECODE_TEST_CACHE_H_
