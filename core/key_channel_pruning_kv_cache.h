// KeyChannelPruningKvCache: a KvCache decorator that prunes key channels once, after
// the prefill, as ThinK does (Xu et al., https://arxiv.org/abs/2407.21018;
// core/key_channel_scores.h for the criterion).
//
// It owns the cache it wraps (a base cache, or an evicting cache that compresses once
// after the prefill) and is handed that cache's key stores, which must be
// ChannelPrunedKeyStores. After a layer's first step (the prefill, whose attention
// read every channel) and whatever eviction the inner cache made at its end, it scores
// the channels of the held keys against the step's last `query_window` queries,
// keeps the highest-scored head_dim - pruned_channels of each KV head, and moves the
// held tokens, all but the last `recent_tokens`, to its store's pruned run. Later
// steps (the decode) append tokens with all their channels. Values are untouched.
//
// Keys are scored as stored, rotated at their original positions, so the inner cache
// must use PositionMode::kOriginal (cache_builder checks it).
#ifndef KVLAB_CORE_KEY_CHANNEL_PRUNING_KV_CACHE_H_
#define KVLAB_CORE_KEY_CHANNEL_PRUNING_KV_CACHE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/channel_pruned_key_store.h"
#include "core/forwarding_kv_cache.h"
#include "core/kv_cache.h"
#include "core/rotary_embedding.h"

namespace kvlab {

struct KeyChannelPruning {
  // Channels dropped per KV head; 1 <= pruned_channels < head_dim.
  int64_t pruned_channels = 0;
  // The prefill's last queries that score the channels (all of them if fewer); >= 1.
  int64_t query_window = 32;
  // The prefill's last held tokens left with all their channels; >= 0.
  int64_t recent_tokens = 32;
};

class KeyChannelPruningKvCache : public ForwardingKvCache {
 public:
  // `key_stores`: one per layer of `inner`, owned by it (they live as long as this
  // cache). InvalidArgument for bad options or a store count that differs from the
  // layers'.
  static absl::StatusOr<std::unique_ptr<KeyChannelPruningKvCache>> Create(
      std::unique_ptr<KvCache> inner, std::vector<ChannelPrunedKeyStore*> key_stores,
      LayerRopes ropes, KeyChannelPruning options);

  absl::StatusOr<AttentionResult> Attend(int layer, const AttentionInputs& inputs) override;

  const ChannelPrunedKeyStore& key_store(int layer) const { return *key_stores_[layer]; }

 private:
  KeyChannelPruningKvCache(std::unique_ptr<KvCache> inner,
                           std::vector<ChannelPrunedKeyStore*> key_stores, LayerRopes ropes,
                           KeyChannelPruning options);
  // Scores and prunes `layer` after its first step, whose queries are `inputs`'.
  absl::Status Prune(int layer, const AttentionInputs& inputs);

  std::vector<ChannelPrunedKeyStore*> key_stores_;
  LayerRopes ropes_;
  KeyChannelPruning options_;
  std::vector<bool> pruned_;
};

}  // namespace kvlab

#endif  // KVLAB_CORE_KEY_CHANNEL_PRUNING_KV_CACHE_H_
