// CUDA launcher behind decode_attention.h (raw pointers; no ATen).
//
// One decode step: each KV head's `group` query rows attend over the head's cached
// tokens, which may come in several segments of different formats (a quantized run
// and a full-precision residual, say). Each segment is one launch of a split kernel
// (FlashDecoding: the token axis is cut into splits, each block computes scores,
// an online softmax and the weighted values of its split in one pass); one combine
// launch then merges the splits into the output and, when asked, folds the
// probabilities into the eviction statistics.
#ifndef KVLAB_KERNELS_DECODE_ATTENTION_CUDA_H_
#define KVLAB_KERNELS_DECODE_ATTENTION_CUDA_H_

#include <cstddef>
#include <cstdint>

#include "kernels/quantized_rows.h"

namespace kvlab::kernels::cuda {

// The fused kernels read rows (QuantizedRows) of int8, int4, fp32, fp16 or bf16,
// starting on 16-byte boundaries: data 16-byte aligned, head and row strides multiples
// of 16.

// Keys and values of one run of tokens; both in one encoding (and scale encoding).
struct DecodeSegmentRows {
  QuantizedRows keys;
  QuantizedRows values;
  int64_t tokens = 0;
};

inline constexpr int kMaxDecodeSegments = 4;

struct DecodePlan {
  int splits[kMaxDecodeSegments] = {};
  int total_splits = 0;
  int64_t workspace_floats = 0;  // Device fp32 scratch the launch needs.
};

// Whether the fused kernel handles this shape and format; nullptr if so, else why not.
const char* DecodeUnsupported(int64_t dim, int64_t group, const DecodeSegmentRows& segment);

// Splits per segment for the current device, and the scratch they need.
DecodePlan PlanDecodeAttention(int64_t kv_heads, int64_t group, int64_t dim,
                               const DecodeSegmentRows* segments, int count, bool stats);

// queries [kv_heads, group, dim] fp32 contiguous; out likewise. `scale` multiplies the
// scores before the softmax. `column_sums` [kv_heads, total tokens] (row stride
// `sums_head_stride`, contiguous rows), or nullptr: += the probabilities averaged over
// the group. `stream` is a cudaStream_t. Returns nullptr, or the CUDA error's text.
const char* LaunchDecodeAttention(const float* queries, int64_t kv_heads, int64_t group,
                                  int64_t dim, float scale, const DecodeSegmentRows* segments,
                                  int count, const DecodePlan& plan, float* workspace,
                                  float* out, float* column_sums, int64_t sums_head_stride,
                                  void* stream);

}  // namespace kvlab::kernels::cuda

#endif  // KVLAB_KERNELS_DECODE_ATTENTION_CUDA_H_
