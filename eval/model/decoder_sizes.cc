#include "eval/model/decoder_sizes.h"

namespace kvlab::model {

bool DecoderSizesWithinLimits(int64_t layers, int64_t hidden, int64_t ffn, int64_t q_heads,
                              int64_t kv_heads) {
  const auto within = [](int64_t size, int64_t limit) { return size > 0 && size <= limit; };
  return within(layers, kMaxLayers) && within(hidden, kMaxHidden) && within(ffn, kMaxFfn) &&
         within(q_heads, kMaxHeads) && within(kv_heads, q_heads) && q_heads % kv_heads == 0;
}

bool HeadDimWithinLimits(int64_t head_dim) {
  return head_dim > 0 && head_dim % 2 == 0 && head_dim <= kMaxHeadDim;
}

}  // namespace kvlab::model
