#include "core/key_channel_pruning_kv_cache.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/torch_status.h"
#include "core/key_channel_scores.h"

namespace kvlab {

absl::StatusOr<std::unique_ptr<KeyChannelPruningKvCache>> KeyChannelPruningKvCache::Create(
    std::unique_ptr<KvCache> inner, std::vector<ChannelPrunedKeyStore*> key_stores,
    LayerRopes ropes, KeyChannelPruning options) {
  if (static_cast<int>(key_stores.size()) != inner->num_layers()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "key channel pruning has %d key stores for %d layers", key_stores.size(),
        inner->num_layers()));
  }
  if (options.pruned_channels < 1 || options.pruned_channels >= ropes.head_dim()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "key channel pruning drops 1 to %d channels, got %d", ropes.head_dim() - 1,
        options.pruned_channels));
  }
  if (options.query_window < 1 || options.recent_tokens < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "key channel pruning needs query_window >= 1 and recent_tokens >= 0, got %d and %d",
        options.query_window, options.recent_tokens));
  }
  return std::unique_ptr<KeyChannelPruningKvCache>(new KeyChannelPruningKvCache(
      std::move(inner), std::move(key_stores), std::move(ropes), options));
}

KeyChannelPruningKvCache::KeyChannelPruningKvCache(std::unique_ptr<KvCache> inner,
                                                   std::vector<ChannelPrunedKeyStore*> key_stores,
                                                   LayerRopes ropes, KeyChannelPruning options)
    : ForwardingKvCache(std::move(inner)),
      key_stores_(std::move(key_stores)),
      ropes_(std::move(ropes)),
      options_(options),
      pruned_(key_stores_.size(), false) {}

absl::StatusOr<AttentionResult> KeyChannelPruningKvCache::Attend(int layer,
                                                                 const AttentionInputs& inputs) {
  KVLAB_ASSIGN_OR_RETURN(AttentionResult result, inner().Attend(layer, inputs));
  if (!pruned_[layer]) {
    KVLAB_RETURN_IF_ERROR(CatchTorchErrors(absl::StrFormat("key channel pruning in layer %d", layer),
                                           [&] { return Prune(layer, inputs); }));
    pruned_[layer] = true;
  }
  return result;
}

absl::Status KeyChannelPruningKvCache::Prune(int layer, const AttentionInputs& inputs) {
  ChannelPrunedKeyStore& store = *key_stores_[layer];
  const int64_t n = inputs.queries.size(1);
  const int64_t window = std::min(options_.query_window, n);
  const int64_t first = inputs.first_position + n - window;
  // The window's queries rotated at their positions, as attention read them.
  const at::Tensor queries = ropes_[layer].Apply(
      inputs.queries.narrow(1, n - window, window),
      at::arange(first, first + window,
                 at::TensorOptions().dtype(at::kLong).device(inputs.queries.device())));
  const at::Tensor scores = KeyChannelScores(queries, store.Materialize());
  const at::Tensor kept = KeptKeyChannels(scores, options_.pruned_channels);
  return store.PruneOldest(std::max<int64_t>(0, store.length() - options_.recent_tokens), kept);
}

}  // namespace kvlab
