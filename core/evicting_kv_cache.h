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
#ifndef KVLAB_CORE_EVICTING_KV_CACHE_H_
#define KVLAB_CORE_EVICTING_KV_CACHE_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/eviction_policy.h"
#include "core/kv_cache.h"
#include "core/token_buffer.h"

namespace kvlab {

enum class EvictionSchedule { kWheneverOverBudget, kOnceAfterPrefill };

class EvictingKvCache : public KvCache {
 public:
  // `layer_budgets` has one entry (>= 1) per layer of `inner`.
  static absl::StatusOr<std::unique_ptr<EvictingKvCache>> Create(
      std::unique_ptr<KvCache> inner, std::unique_ptr<EvictionPolicy> policy,
      std::vector<int64_t> layer_budgets,
      EvictionSchedule schedule = EvictionSchedule::kWheneverOverBudget, int64_t sequence = 0);

  absl::StatusOr<AttentionResult> Attend(int layer, const AttentionInputs& inputs) override;
  absl::Status Retain(int layer, const at::Tensor& keep) override;
  int64_t Length(int layer) const override { return inner_->Length(layer); }
  at::Tensor Positions(int layer) const override { return inner_->Positions(layer); }
  CacheMemory Memory() const override;
  int num_layers() const override { return inner_->num_layers(); }

  const EvictionPolicy& policy() const { return *policy_; }
  int64_t budget(int layer) const { return budgets_[layer]; }

 private:
  struct LayerStats {
    std::unique_ptr<TokenBuffer> accumulated;  // [kv_heads, length] fp32
    std::unique_ptr<TokenBuffer> key_norms;    // [kv_heads, length] fp32
    int64_t step = 0;
  };

  EvictingKvCache(std::unique_ptr<KvCache> inner, std::unique_ptr<EvictionPolicy> policy,
                  std::vector<int64_t> budgets, EvictionSchedule schedule, int64_t sequence);
  absl::Status Evict(int layer, const AttentionStats& stats);

  std::unique_ptr<KvCache> inner_;
  std::unique_ptr<EvictionPolicy> policy_;
  PolicyNeeds needs_;
  std::vector<int64_t> budgets_;
  EvictionSchedule schedule_;
  int64_t sequence_;  // EvictionContext::sequence.
  std::vector<LayerStats> stats_;
};

}  // namespace kvlab

#endif  // KVLAB_CORE_EVICTING_KV_CACHE_H_
