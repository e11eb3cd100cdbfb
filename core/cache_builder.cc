#include "core/cache_builder.h"

#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/device.h"
#include "base/annotate.h"
#include "base/status_macros.h"
#include "core/dense_tensor_store.h"
#include "core/evicting_kv_cache.h"
#include "core/eviction_policy.h"
#include "core/layer_budgets.h"
#include "core/per_head_kv_cache.h"
#include "core/quantizer.h"
#include "core/scored_eviction_policy.h"

namespace kvlab {

namespace {

using config::CacheConfig;
using config::StorageDtype;
using config::StoreConfig;

at::ScalarType ToScalarType(StorageDtype dtype) {
  switch (dtype) {
    case config::BFLOAT16: return at::kBFloat16;
    case config::FLOAT16: return at::kHalf;
    default: return at::kFloat;
  }
}

absl::StatusOr<TensorStoreFactory> MakeStoreFactory(const StoreConfig& config,
                                                    const CacheContext& context,
                                                    const std::string& field) {
  if (config.has_quantized()) {
    const config::QuantizedStoreConfig& q = config.quantized();
    if (q.residual_tokens() < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s.quantized.residual_tokens must be >= 0, got %d", field, q.residual_tokens()));
    }
    absl::StatusOr<std::unique_ptr<Quantizer>> made =
        QuantizerRegistry().Create(q.quantizer(), q.options());
    if (!made.ok()) {
      return Annotate(made.status(), field + ".quantized");
    }
    KVLAB_RETURN_IF_ERROR(CheckDeviceAvailable(context.device));
    std::shared_ptr<const Quantizer> quantizer = *std::move(made);
    const StoreSpec spec{context.shape.kv_heads, context.shape.head_dim, q.residual_tokens(),
                         context.device};
    const std::string where = field + ".quantized";
    return TensorStoreFactory(
        [quantizer, spec, where](int) -> absl::StatusOr<std::unique_ptr<TensorStore>> {
          absl::StatusOr<std::unique_ptr<TensorStore>> store = quantizer->MakeStore(spec);
          if (!store.ok()) {
            return Annotate(store.status(), where);
          }
          return store;
        });
  }
  const at::ScalarType dtype = ToScalarType(config.dense().dtype());
  const AttentionShape shape = context.shape;
  const c10::Device device = context.device;
  KVLAB_RETURN_IF_ERROR(CheckDeviceAvailable(device));
  return TensorStoreFactory([shape, dtype, device](int) -> absl::StatusOr<std::unique_ptr<TensorStore>> {
    KVLAB_ASSIGN_OR_RETURN(auto store,
                           DenseTensorStore::Create(shape.kv_heads, shape.head_dim, dtype, device));
    return std::unique_ptr<TensorStore>(std::move(store));
  });
}

// Errors of head_allocation and adakv_floor, named by field.
absl::Status CheckHeadAllocation(const CacheConfig& config, const CacheContext& context) {
  if (!config.has_eviction()) return absl::OkStatus();
  const config::EvictionConfig& eviction = config.eviction();
  if (eviction.head_allocation() != config::ADAKV) {
    if (eviction.has_adakv_floor()) {
      return absl::InvalidArgumentError(
          "eviction.adakv_floor applies only with eviction.head_allocation ADAKV");
    }
    return absl::OkStatus();
  }
  if (eviction.has_adakv_floor() &&
      !(eviction.adakv_floor() >= 0.0 && eviction.adakv_floor() <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "eviction.adakv_floor must be in [0, 1], got %g", eviction.adakv_floor()));
  }
  if (context.eviction_schedule != EvictionSchedule::kOnceAfterPrefill) {
    return absl::InvalidArgumentError(
        "eviction.head_allocation ADAKV gives each KV head its budget once, after the "
        "prefill, and this protocol evicts while decoding: use compress_once (or ruler, "
        "or retrieval's compress_once)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<KvCacheFactory> MakeCacheFactory(const config::CacheConfig& config,
                                                const CacheContext& context) {
  const bool per_head =
      config.has_eviction() && config.eviction().head_allocation() == config::ADAKV;
  KVLAB_RETURN_IF_ERROR(CheckHeadAllocation(config, context));
  // Per-head budgets store each KV head apart: stores and caches of one KV head each.
  CacheContext store_context = context;
  if (per_head) {
    store_context.shape.q_heads = context.shape.q_heads / context.shape.kv_heads;
    store_context.shape.kv_heads = 1;
  }
  KVLAB_ASSIGN_OR_RETURN(TensorStoreFactory keys,
                         MakeStoreFactory(config.keys(), store_context, "keys"));
  KVLAB_ASSIGN_OR_RETURN(TensorStoreFactory values,
                         MakeStoreFactory(config.values(), store_context, "values"));
  const PositionMode mode = config.position_mode() == config::POSITION_CACHE_SLOT
                                ? PositionMode::kCacheSlot
                                : PositionMode::kOriginal;
  const auto make_base = [context, store_context, per_head, mode, keys,
                          values]() -> absl::StatusOr<std::unique_ptr<KvCache>> {
    if (!per_head) {
      KVLAB_ASSIGN_OR_RETURN(auto cache, BaseKvCache::Create(context.shape, context.rope, mode,
                                                             context.device, keys, values));
      return std::unique_ptr<KvCache>(std::move(cache));
    }
    std::vector<std::unique_ptr<KvCache>> heads;
    for (int64_t h = 0; h < context.shape.kv_heads; ++h) {
      KVLAB_ASSIGN_OR_RETURN(auto head, BaseKvCache::Create(store_context.shape, context.rope,
                                                            mode, context.device, keys, values));
      heads.push_back(std::move(head));
    }
    KVLAB_ASSIGN_OR_RETURN(auto cache,
                           PerHeadKvCache::Create(std::move(heads), context.shape.q_heads));
    return std::unique_ptr<KvCache>(std::move(cache));
  };
  // Build one cache now so that errors surface before an experiment starts running.
  KVLAB_RETURN_IF_ERROR(make_base().status());
  if (!config.has_eviction()) return KvCacheFactory(make_base);

  const config::EvictionConfig eviction = config.eviction();
  const PluginRegistry<EvictionPolicy>& registry = EvictionPolicyRegistry();
  const auto make_policy = [&registry, eviction]() -> absl::StatusOr<std::unique_ptr<EvictionPolicy>> {
    absl::StatusOr<std::unique_ptr<EvictionPolicy>> policy =
        registry.Create(eviction.policy(), eviction.options());
    if (!policy.ok()) {
      return Annotate(policy.status(), "eviction");
    }
    if (eviction.head_allocation() == config::ADAKV) {
      auto* scored = dynamic_cast<ScoredEvictionPolicy*>(policy->get());
      if (scored == nullptr) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "eviction.head_allocation ADAKV ranks tokens by score across heads, and policy "
            "'%s' has no scores",
            eviction.policy()));
      }
      HeadAllocation allocation;
      allocation.adakv = true;
      if (eviction.has_adakv_floor()) allocation.floor = eviction.adakv_floor();
      scored->set_head_allocation(allocation);
    }
    return policy;
  };
  KVLAB_RETURN_IF_ERROR(make_policy().status());
  KVLAB_ASSIGN_OR_RETURN(const std::vector<int64_t> budgets,
                         EvictionLayerBudgets(eviction, context.shape.num_layers,
                                              context.budget_reference_tokens));
  absl::StatusOr<SeenFraction> seen = SeenFractionOf(eviction.budget());
  if (!seen.ok()) {
    return absl::Status(seen.status().code(), absl::StrCat("eviction.", seen.status().message()));
  }
  const SeenFraction seen_fraction = *seen;
  if (seen_fraction.fraction != 0.0 &&
      context.eviction_schedule != EvictionSchedule::kWheneverOverBudget) {
    return absl::InvalidArgumentError(
        "eviction.budget.fraction_of_seen compresses while decoding, and this protocol "
        "compresses once after the prefill: use budget.fraction or budget.tokens");
  }
  // Numbers the caches this factory makes (EvictionContext::sequence).
  auto made = std::make_shared<std::atomic<int64_t>>(0);
  return KvCacheFactory([make_base, make_policy, budgets,
                         schedule = context.eviction_schedule,
                         record = context.record_evictions, rope = context.rope, made,
                         seen_fraction]() -> absl::StatusOr<std::unique_ptr<KvCache>> {
    KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> base, make_base());
    KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<EvictionPolicy> policy, make_policy());
    KVLAB_ASSIGN_OR_RETURN(auto cache, EvictingKvCache::Create(std::move(base), std::move(policy),
                                                               budgets, schedule, (*made)++,
                                                               record, rope, seen_fraction));
    return std::unique_ptr<KvCache>(std::move(cache));
  });
}

absl::StatusOr<std::vector<int64_t>> EvictionLayerBudgets(const config::EvictionConfig& eviction,
                                                          int num_layers,
                                                          int64_t reference_tokens) {
  absl::StatusOr<std::unique_ptr<EvictionPolicy>> policy =
      EvictionPolicyRegistry().Create(eviction.policy(), eviction.options());
  if (!policy.ok()) return Annotate(policy.status(), "eviction");
  absl::StatusOr<std::vector<int64_t>> budgets = LayerBudgets(
      eviction.budget(), num_layers, reference_tokens, (*policy)->ObservationWindow());
  if (!budgets.ok()) {
    return absl::Status(budgets.status().code(),
                        absl::StrCat("eviction.", budgets.status().message()));
  }
  return budgets;
}

std::string DescribeStore(const config::StoreConfig& config) {
  if (!config.has_quantized()) {
    switch (config.dense().dtype()) {
      case config::BFLOAT16: return "bf16";
      case config::FLOAT16: return "fp16";
      default: return "fp32";
    }
  }
  const config::QuantizedStoreConfig& q = config.quantized();
  std::string text = q.quantizer();
  if (q.has_options()) text += " (" + q.options().ShortDebugString() + ")";
  if (q.residual_tokens() > 0) text += absl::StrFormat(" + %d fp32 residual", q.residual_tokens());
  return text;
}

}  // namespace kvlab
