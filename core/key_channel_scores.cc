#include "core/key_channel_scores.h"

#include <ATen/ATen.h>

namespace kvlab {

at::Tensor KeyChannelScores(const at::Tensor& queries, const at::Tensor& keys) {
  const int64_t kv_heads = keys.size(0), d = keys.size(2);
  const at::Tensor query_power =
      queries.pow(2).mean(1).view({kv_heads, queries.size(0) / kv_heads, d}).mean(1);
  return query_power * keys.pow(2).mean(1);
}

at::Tensor KeptKeyChannels(const at::Tensor& scores, int64_t pruned) {
  // The complement of the `pruned` lowest (what the references drop), so that ties are
  // broken as theirs are; then ascending, the order the channels are stored in.
  at::Tensor kept_mask = at::ones_like(scores, scores.options().dtype(at::kBool));
  if (pruned > 0) {
    const at::Tensor dropped = std::get<1>(scores.topk(pruned, /*dim=*/-1, /*largest=*/false));
    kept_mask.scatter_(1, dropped, false);
  }
  const int64_t kept = scores.size(1) - pruned;
  return kept_mask.nonzero().select(1, 1).view({scores.size(0), kept});
}

}  // namespace kvlab
