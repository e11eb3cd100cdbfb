// EvictingKvCache: a KvCache decorator that evicts with an EvictionPolicy.
//
// It owns the cache it wraps. On every Attend() it asks the inner cache for the
// statistics the policy needs, keeps them per held token (accumulated attention, key
// norms), and whenever a layer then holds more than its budget, asks the policy which
// tokens to keep and has the inner cache Retain() exactly those: the others' storage
// is freed or reused and the measured bytes drop. The new tokens take part in their
// own step's attention before any eviction, so a layer holds at most budget + n
// tokens during a step of n tokens and `budget` after it.
//
// When it evicts is its schedule. kWheneverOverBudget (the default) evicts after every
// step that leaves a layer over budget: the cache never holds more than the budget
// between steps. kOnceAfterPrefill evicts only after a layer's first step (the
// prefill), as SnapKV, PyramidKV and kvpress compress a prompt once; later steps (the
// decode) only append, so the cache grows past the budget, and the statistics kept for
// the policy are freed once the prefill is compressed.
//
// A policy that gives each KV head its own budget (EvictionPolicy::AllocatesPerHead,
// AdaKV's allocation) needs kOnceAfterPrefill and an inner cache that stores heads apart
// (PerHeadKvCache): the one compression sees every head holding the same prefill, so
// the statistics are rectangular, and only its result is ragged; the layer then keeps
// kv_heads x budget tokens in all, a different number per head.
//
// A policy that splits the budget over layers (EvictionPolicy::AllocatesLayers, CAKE)
// needs kOnceAfterPrefill too, and compresses in CAKE's cascade: the model's total, the
// sum over layers of (budget - observation window), is shared among the layers
// prefilled so far in proportion to their preferences (PreferenceShares,
// layer_budgets.h), and after each layer's prefill every one of them is cut to its
// share plus the window, by the ranking it was given at its own prefill. Shares shrink
// as layers arrive, so the cache holds at most the total, the windows and the layer
// being prefilled, and after the last layer each holds what one split over all the
// layers gives (a token once evicted stays gone, should a share grow back).
//
// A budget may instead be a fraction of the tokens each layer has seen
// (Budget.fraction_of_seen): after every `interval`-th token seen the layer is compressed
// to max(1, floor(fraction x seen)) tokens, so the cache keeps a fixed compression ratio
// while decoding rather than a fixed size. Only with kWheneverOverBudget.
#ifndef KVLAB_CORE_EVICTING_KV_CACHE_H_
#define KVLAB_CORE_EVICTING_KV_CACHE_H_

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "core/eviction_policy.h"
#include "core/forwarding_kv_cache.h"
#include "core/kv_cache.h"
#include "core/layer_budgets.h"
#include "core/rotary_embedding.h"
#include "core/token_buffer.h"

namespace kvlab {

enum class EvictionSchedule { kWheneverOverBudget, kOnceAfterPrefill };

// What one layer's evictions did, when the cache records them (Create's `record`).
// Tensors stay on the cache's device; reading them is the caller's choice.
struct LayerEvictions {
  int64_t evictions = 0;
  // fp32 [kv_heads]: summed over the evictions, the share of the attention of the
  // step's last query (averaged over the query heads of each KV head) that fell on the
  // tokens kept. Divide by `evictions` for the mean.
  at::Tensor retained_mass_sum;
  // int64 [kv_heads, budget]: the original positions the latest eviction kept (with
  // per-head budgets, [kv_heads, the most any head kept], rows padded with -1).
  at::Tensor kept_positions;
};

class EvictingKvCache : public ForwardingKvCache {
 public:
  // `layer_budgets` has one entry (>= 1) per layer of `inner`. `ropes`, the model's
  // rotary embeddings, is needed only by a policy that asks for queries (Needs()). A
  // non-zero `seen_fraction` makes each layer's budget that fraction of the tokens it
  // has seen (`layer_budgets` is then not read).
  static absl::StatusOr<std::unique_ptr<EvictingKvCache>> Create(
      std::unique_ptr<KvCache> inner, std::unique_ptr<EvictionPolicy> policy,
      std::vector<int64_t> layer_budgets,
      EvictionSchedule schedule = EvictionSchedule::kWheneverOverBudget, int64_t sequence = 0,
      bool record = false, std::optional<LayerRopes> ropes = std::nullopt,
      SeenFraction seen_fraction = {});

  absl::StatusOr<AttentionResult> Attend(int layer, const AttentionInputs& inputs) override;
  absl::Status Retain(int layer, const at::Tensor& keep) override;
  // The per-token statistics cannot follow heads that keep different tokens: they are
  // dropped (only a compress-once schedule retains per head, and it never reads them
  // again).
  absl::Status RetainPerHead(int layer, absl::Span<const at::Tensor> keep) override;
  CacheMemory Memory() const override;

  const EvictionPolicy& policy() const { return *policy_; }
  // The layer's budget; for a fraction of the tokens seen, the one its latest
  // compression applied (0 before the first).
  int64_t budget(int layer) const { return budgets_[layer]; }
  // One entry per layer when recording (a layer that never evicted has evictions 0 and
  // undefined tensors); nullptr otherwise. Recording asks the inner cache for the
  // attention row of each step's last query, which changes no output.
  const std::vector<LayerEvictions>* evictions() const {
    return record_ ? &evictions_ : nullptr;
  }

 private:
  struct LayerStats {
    std::unique_ptr<TokenBuffer> accumulated;  // [kv_heads, length] fp32
    std::unique_ptr<TokenBuffer> key_norms;    // [kv_heads, length] fp32
    int64_t step = 0;
    int64_t first_position = 0;  // Of the layer's first step.
  };

  EvictingKvCache(std::unique_ptr<KvCache> inner, std::unique_ptr<EvictionPolicy> policy,
                  std::vector<int64_t> budgets, EvictionSchedule schedule, int64_t sequence,
                  bool record, std::optional<LayerRopes> ropes, SeenFraction seen_fraction);
  // The budget a layer that had seen `seen_before` tokens is held to after a step of
  // `n` more; INT64_MAX when a fraction-of-seen budget skips this step.
  int64_t StepBudget(int layer, int64_t seen_before, int64_t n) const;
  absl::Status Evict(int layer, int64_t budget, const AttentionStats& stats,
                     const at::Tensor& queries);
  // Evict() for a policy that splits the budget over layers: CAKE's cascade, after
  // `layer`'s prefill.
  absl::Status Cascade(int layer, const EvictionContext& context);
  // Evict() for a policy that allocates per KV head: each head retains its own tokens.
  absl::Status EvictPerHead(int layer, const EvictionContext& context, const at::Tensor& recent);
  void Record(int layer, const EvictionContext& context, const at::Tensor& keep,
              const at::Tensor& last_query_attention);

  std::unique_ptr<EvictionPolicy> policy_;
  PolicyNeeds needs_;
  std::vector<int64_t> budgets_;
  EvictionSchedule schedule_;
  int64_t sequence_;  // EvictionContext::sequence.
  std::optional<LayerRopes> ropes_;
  std::vector<LayerStats> stats_;
  bool record_;
  std::vector<LayerEvictions> evictions_;
  SeenFraction seen_fraction_;
  // CAKE's cascade (AllocatesLayers): the tokens the layers share beyond their windows;
  // per layer, once prefilled, its preference, the most its share may be (its prefill's
  // length less the window) and its held tokens best first.
  struct CascadeLayer {
    double preference = 0.0;
    int64_t cap = 0;
    at::Tensor ranked;  // [kv_heads, Length(layer)] int64
  };
  int64_t cascade_total_ = 0;
  std::vector<std::optional<CascadeLayer>> cascade_;
};

}  // namespace kvlab

#endif  // KVLAB_CORE_EVICTING_KV_CACHE_H_
