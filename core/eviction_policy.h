// EvictionPolicy: decides which cached tokens a layer keeps when it is over budget.
//
// Policies do not touch storage. EvictingKvCache (evicting_kv_cache.h) wraps any
// KvCache, gathers what the policy asks for (Needs()), calls SelectKeep() whenever a
// layer holds more tokens than its budget, and makes the inner cache Retain() the
// chosen tokens, so evicted tokens are really gone.
//
// Each policy lives in its own file under policies/ (or anywhere else: see
// examples/) and registers itself with one line:
//
//   KVLAB_REGISTER_EVICTION_POLICY(window, policies::WindowOptions, MakeWindowPolicy);
//
// Most policies only score tokens: derive from ScoredEvictionPolicy instead.
#ifndef KVLAB_CORE_EVICTION_POLICY_H_
#define KVLAB_CORE_EVICTION_POLICY_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/registry.h"

namespace kvlab {

class RotaryEmbedding;  // core/rotary_embedding.h

// Statistics a policy wants the cache to gather for it.
struct PolicyNeeds {
  // Attention each held token has received, summed over every query since it entered
  // the cache (H2O's accumulated attention).
  bool accumulated_attention = false;
  // Attention rows of the last `recent_queries` queries of the latest step.
  int64_t recent_queries = 0;
  // L2 norms of the held keys (rotation preserves them).
  bool key_norms = false;
  // The held keys and values themselves (EvictionContext::keys, values).
  bool keys = false;
  bool values = false;
  // The latest step's queries and the layer's rotary embedding (EvictionContext::
  // queries, rope), for scorers that model the queries to come (ExpectedAttention).
  bool queries = false;
  // The recent rows per query head as well (EvictionContext::
  // recent_attention_by_query_head), for statistics not linear in the attention.
  bool recent_by_query_head = false;
};

// What a policy sees for one layer. Tensors are [kv_heads, length] unless noted, one
// entry per held token in cache order (oldest first); attention is averaged over the
// query heads that share a KV head. Tensors that were not asked for are undefined.
// They are views into the cache's own buffers, valid only during SelectKeep().
struct EvictionContext {
  int layer = 0;
  int num_layers = 0;
  // Tokens the layer must keep per KV head; smaller than length.
  int64_t budget = 0;
  // Tokens the sequence has processed so far, the current step's included.
  int64_t step = 0;
  // Which sequence the cache serves: its factory numbers the caches it makes 0, 1, ...
  // (a protocol makes one per chunk or window). A policy that draws random numbers
  // mixes it into its seed, so each sequence draws its own, reproducibly.
  int64_t sequence = 0;
  // Original position of the sequence's first token: the step's tokens end at
  // first_position + step - 1, and a held token at position p has been seen by
  // first_position + step - p queries.
  int64_t first_position = 0;
  at::Tensor positions;              // int64 original positions.
  at::Tensor accumulated_attention;  // fp32
  at::Tensor recent_attention;       // fp32 [kv_heads, queries, length]
  // fp32 [kv_heads, group, queries, length]: recent_attention before the group's mean.
  at::Tensor recent_attention_by_query_head;
  at::Tensor key_norms;              // fp32
  // fp32 [kv_heads, length, head_dim]: the held keys as attention reads them (after
  // any quantization), rotated at their original positions, and the held values.
  at::Tensor keys;
  at::Tensor values;
  // fp32 [q_heads, n, head_dim]: the latest step's n queries, before rotation.
  at::Tensor queries;
  // The layer's rotary embedding (how its keys were rotated); null unless asked for.
  const RotaryEmbedding* rope = nullptr;
};

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;

  // The registered name, for error messages (result records carry the config's
  // `policy`, which is the same name).
  virtual std::string Name() const = 0;
  virtual PolicyNeeds Needs() const { return {}; }
  // Whether the policy evicts from `layer` at all; a layer it leaves uncompressed
  // keeps every token, whatever its budget (knorm's reference skips layer 0).
  virtual bool CompressesLayer(int layer) const { return true; }
  // How many of the most recent tokens the policy keeps as its observation window
  // (SnapKV's window: the queries that vote, kept whole), 0 if it has none. PyramidKV's
  // schedule (LayerBudgets) adds this window on every layer, so the two must agree.
  virtual int64_t ObservationWindow() const { return 0; }

  // Returns the tokens to keep: [kv_heads, budget] int64 indices into the current
  // cache order, in any order. Called only when the layer holds more than `budget`.
  virtual absl::StatusOr<at::Tensor> SelectKeep(const EvictionContext& context) = 0;

  // Whether the policy splits the model's budget over its layers by what each layer's
  // prefill shows (CAKE's layer preferences). EvictingKvCache then compresses in CAKE's
  // cascade (evicting_kv_cache.h), asking for LayerPreference and RankTokens instead of
  // SelectKeep.
  virtual bool AllocatesLayers() const { return false; }
  // The layer's preference, >= 0: its share of the budget is proportional to it.
  virtual absl::StatusOr<double> LayerPreference(const EvictionContext& context) {
    return absl::UnimplementedError("policy '" + Name() + "' has no layer preference");
  }
  // Every held token, best first: [kv_heads, length] int64 indices into the current
  // cache order, so that the first b of a row are that head's choice for a budget of b.
  virtual absl::StatusOr<at::Tensor> RankTokens(const EvictionContext& context) {
    return absl::UnimplementedError("policy '" + Name() + "' does not rank its tokens");
  }

  // Whether the policy gives each KV head its own number of tokens (AdaKV's
  // allocation): EvictingKvCache then calls SelectKeepPerHead instead of SelectKeep.
  virtual bool AllocatesPerHead() const { return false; }
  // One [m_h] int64 tensor per KV head, indices into the current cache order, in any
  // order; the m_h sum to kv_heads x budget. Called only when the layer holds more
  // than `budget`, and only while every head holds the same tokens.
  virtual absl::StatusOr<std::vector<at::Tensor>> SelectKeepPerHead(
      const EvictionContext& context) {
    return absl::UnimplementedError("policy '" + Name() + "' keeps the same count in every head");
  }
};

// The registry of eviction policies.
PluginRegistry<EvictionPolicy>& EvictionPolicyRegistry();

}  // namespace kvlab

// Registers `factory` (absl::StatusOr<std::unique_ptr<EvictionPolicy>>(const Options&))
// as the eviction policy `name` (an identifier, used as the string name).
#define KVLAB_REGISTER_EVICTION_POLICY(name, Options, factory)                   \
  static const bool kvlab_eviction_policy_registered_##name =                     \
      ::kvlab::EvictionPolicyRegistry().RegisterTyped<Options>(#name, factory)

#endif  // KVLAB_CORE_EVICTION_POLICY_H_
