// Key channel scores: ThinK's query-driven criterion for pruning key channels (Xu et
// al., "ThinK: Thinner Key Cache by Query-Driven Pruning", https://arxiv.org/abs/2407.21018).
//
// ThinK keeps, per KV head, the key channels c that contribute most to the attention
// scores of the observation window: it ranks c by ||Q[:, c] K[:, c]^T||_F, which for
// one channel is ||Q[:, c]|| ||K[:, c]||, so the product of the mean squares ranks
// alike (the reference code's "efficient implementation" and kvpress's ThinKPress
// compute exactly that product). The query heads that share a KV head are averaged,
// as kvpress does, so that every KV head keeps one set of channels.
//
//   const at::Tensor scores = KeyChannelScores(window_queries, held_keys);
//   const at::Tensor kept = KeptKeyChannels(scores, /*pruned=*/32);  // [kv_heads, d - 32]
#ifndef KVLAB_CORE_KEY_CHANNEL_SCORES_H_
#define KVLAB_CORE_KEY_CHANNEL_SCORES_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace kvlab {

// queries [q_heads, w, d] (the observation window, rotated as attention reads them),
// keys [kv_heads, n, d] (the held keys, rotated), fp32, q_heads a multiple of kv_heads
// (query head h reads KV head h / (q_heads / kv_heads)). Returns [kv_heads, d] fp32:
// the mean over the KV head's query heads of mean_t queries[h, t, c]^2, times
// mean_t keys[kv, t, c]^2.
at::Tensor KeyChannelScores(const at::Tensor& queries, const at::Tensor& keys);

// The channels each KV head keeps: all but the `pruned` lowest-scored of `scores`
// [kv_heads, d], as int64 [kv_heads, d - pruned], ascending per row. 0 <= pruned < d.
at::Tensor KeptKeyChannels(const at::Tensor& scores, int64_t pruned);

}  // namespace kvlab

#endif  // KVLAB_CORE_KEY_CHANNEL_SCORES_H_
