#include "core/cache_builder.h"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/device.h"
#include "base/annotate.h"
#include "base/status_macros.h"
#include "core/channel_pruned_key_store.h"
#include "core/dense_tensor_store.h"
#include "core/evicting_kv_cache.h"
#include "core/eviction_policy.h"
#include "core/key_channel_pruning_kv_cache.h"
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

// Makes a store of `head_dim` channels in `config`'s format, a quantized one with
// `residual_tokens` full-precision tokens.
using StoreMaker = std::function<absl::StatusOr<std::unique_ptr<TensorStore>>(
    int64_t head_dim, int64_t residual_tokens)>;

absl::StatusOr<StoreMaker> MakeStoreMaker(const StoreConfig& config, const CacheContext& context,
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
    const int64_t kv_heads = context.shape.kv_heads;
    const c10::Device device = context.device;
    const std::string where = field + ".quantized";
    return StoreMaker([quantizer, kv_heads, device, where](int64_t head_dim, int64_t residual)
                          -> absl::StatusOr<std::unique_ptr<TensorStore>> {
      absl::StatusOr<std::unique_ptr<TensorStore>> store =
          quantizer->MakeStore(StoreSpec{kv_heads, head_dim, residual, device});
      if (!store.ok()) {
        return Annotate(store.status(), where);
      }
      return store;
    });
  }
  const at::ScalarType dtype = ToScalarType(config.dense().dtype());
  const int64_t kv_heads = context.shape.kv_heads;
  const c10::Device device = context.device;
  KVLAB_RETURN_IF_ERROR(CheckDeviceAvailable(device));
  return StoreMaker([kv_heads, dtype, device](int64_t head_dim, int64_t)
                        -> absl::StatusOr<std::unique_ptr<TensorStore>> {
    KVLAB_ASSIGN_OR_RETURN(auto store, DenseTensorStore::Create(kv_heads, head_dim, dtype, device));
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

// Errors of a policy that splits the budget over layers (CAKE), named by field.
absl::Status CheckLayerAllocation(const config::EvictionConfig& eviction,
                                  const EvictionPolicy& policy, const CacheContext& context,
                                  const std::vector<int64_t>& budgets) {
  if (context.eviction_schedule != EvictionSchedule::kOnceAfterPrefill) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "eviction.policy '%s' splits the budget over layers once, after the prefill, and "
        "this protocol evicts while decoding: use compress_once (or ruler, or retrieval's "
        "compress_once)",
        eviction.policy()));
  }
  if (eviction.head_allocation() == config::ADAKV) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "eviction.head_allocation ADAKV splits each layer's budget over its heads, and "
        "policy '%s' splits the budget over layers: use one of the two",
        eviction.policy()));
  }
  if (context.record_evictions) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "record_evictions: policy '%s' splits the budget over layers, whose evictions are "
        "not recorded",
        eviction.policy()));
  }
  for (int64_t b : budgets) {
    if (b <= policy.ObservationWindow()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "eviction.budget gives a layer %d tokens, and policy '%s' keeps its observation "
          "window of %d tokens in every layer: the budget must exceed it",
          b, eviction.policy(), policy.ObservationWindow()));
    }
  }
  return absl::OkStatus();
}

int64_t ResidualTokens(const StoreConfig& config) {
  return config.has_quantized() ? config.quantized().residual_tokens() : 0;
}

absl::StatusOr<TensorStoreFactory> MakeStoreFactory(const StoreConfig& config,
                                                    const CacheContext& context,
                                                    const std::string& field) {
  KVLAB_ASSIGN_OR_RETURN(const StoreMaker make, MakeStoreMaker(config, context, field));
  const int64_t head_dim = context.shape.head_dim;
  const int64_t residual = ResidualTokens(config);
  return TensorStoreFactory([make, head_dim, residual](int) { return make(head_dim, residual); });
}

// The pruning that `config` asks of a cache of `context`; errors name the field.
absl::StatusOr<KeyChannelPruning> KeyChannelPruningOf(const config::CacheConfig& config,
                                                      const CacheContext& context) {
  const config::KeyChannelsConfig& k = config.key_channels();
  const int64_t head_dim = context.shape.head_dim;
  if (!(k.pruned_fraction() > 0.0 && k.pruned_fraction() < 1.0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "key_channels.pruned_fraction must be in (0, 1), got %g", k.pruned_fraction()));
  }
  KeyChannelPruning pruning;
  // As ThinK's and kvpress's int(head_dim * ratio).
  pruning.pruned_channels = static_cast<int64_t>(static_cast<double>(head_dim) * k.pruned_fraction());
  if (pruning.pruned_channels < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "key_channels.pruned_fraction %g prunes no channel of head_dim %d", k.pruned_fraction(),
        head_dim));
  }
  if (k.has_query_window()) pruning.query_window = k.query_window();
  if (pruning.query_window < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "key_channels.query_window must be >= 1, got %d", pruning.query_window));
  }
  if (k.has_recent_tokens()) pruning.recent_tokens = k.recent_tokens();
  if (pruning.recent_tokens < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "key_channels.recent_tokens must be >= 0, got %d", pruning.recent_tokens));
  }
  if (config.position_mode() == config::POSITION_CACHE_SLOT) {
    return absl::InvalidArgumentError(
        "key_channels prunes keys as stored, rotated at their original positions: it needs "
        "position_mode POSITION_ORIGINAL");
  }
  if (context.eviction_schedule != EvictionSchedule::kOnceAfterPrefill) {
    return absl::InvalidArgumentError(
        "key_channels prunes once after the prefill, and this protocol has no prefill to "
        "compress once: use compress_once (or ruler, or retrieval's compress_once)");
  }
  return pruning;
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
  std::optional<KeyChannelPruning> pruning;
  StoreMaker make_keys;
  if (config.has_key_channels()) {
    if (per_head) {
      return absl::InvalidArgumentError(
          "key_channels with eviction.head_allocation ADAKV: channel pruning reads the "
          "layers' keys as one tensor of every KV head, which per-head budgets make ragged; "
          "use one or the other");
    }
    KVLAB_ASSIGN_OR_RETURN(pruning, KeyChannelPruningOf(config, context));
    KVLAB_ASSIGN_OR_RETURN(make_keys, MakeStoreMaker(config.keys(), context, "keys"));
  }
  const PositionMode mode = config.position_mode() == config::POSITION_CACHE_SLOT
                                ? PositionMode::kCacheSlot
                                : PositionMode::kOriginal;
  // A base cache and, with key channel pruning, its key stores (owned by it), which
  // the pruning decorator drives.
  struct Base {
    std::unique_ptr<KvCache> cache;
    std::vector<ChannelPrunedKeyStore*> key_stores;
  };
  const auto make_base = [context, store_context, per_head, mode, keys, values, pruning,
                          make_keys, key_residual = ResidualTokens(config.keys())]()
      -> absl::StatusOr<Base> {
    Base base;
    if (per_head) {
      // Per-head budgets store each KV head apart: a cache of one KV head per head.
      std::vector<std::unique_ptr<KvCache>> heads;
      for (int64_t h = 0; h < context.shape.kv_heads; ++h) {
        KVLAB_ASSIGN_OR_RETURN(auto head, BaseKvCache::Create(store_context.shape, context.rope,
                                                              mode, context.device, keys, values));
        heads.push_back(std::move(head));
      }
      KVLAB_ASSIGN_OR_RETURN(base.cache,
                             PerHeadKvCache::Create(std::move(heads), context.shape.q_heads));
      return base;
    }
    TensorStoreFactory make_key_store = keys;
    if (pruning.has_value()) {
      // The pruned tokens never grow, so their store needs no residual.
      const int64_t head_dim = context.shape.head_dim;
      const int64_t kv_heads = context.shape.kv_heads;
      // Called by BaseKvCache::Create below, before `base` is returned.
      make_key_store = [&base, make_keys, head_dim, kv_heads,
                        key_residual](int) -> absl::StatusOr<std::unique_ptr<TensorStore>> {
        KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<TensorStore> full, make_keys(head_dim, key_residual));
        auto store = std::make_unique<ChannelPrunedKeyStore>(
            kv_heads, head_dim, std::move(full),
            [make_keys](int64_t kept) { return make_keys(kept, 0); });
        base.key_stores.push_back(store.get());
        return std::unique_ptr<TensorStore>(std::move(store));
      };
    }
    KVLAB_ASSIGN_OR_RETURN(base.cache, BaseKvCache::Create(context.shape, context.rope, mode,
                                                           context.device, make_key_store, values));
    return base;
  };
  // The outermost decorator: it prunes what the layers hold after the prefill, once
  // an evicting cache inside has compressed it.
  const auto with_pruning = [pruning, rope = context.rope](
                                Base base, std::unique_ptr<KvCache> cache)
      -> absl::StatusOr<std::unique_ptr<KvCache>> {
    if (!pruning.has_value()) return cache;
    KVLAB_ASSIGN_OR_RETURN(auto pruned, KeyChannelPruningKvCache::Create(
                                            std::move(cache), std::move(base.key_stores), rope,
                                            *pruning));
    return std::unique_ptr<KvCache>(std::move(pruned));
  };
  // Build one cache now so that errors surface before an experiment starts running.
  {
    KVLAB_ASSIGN_OR_RETURN(Base base, make_base());
    std::unique_ptr<KvCache> cache = std::move(base.cache);
    KVLAB_RETURN_IF_ERROR(with_pruning(std::move(base), std::move(cache)).status());
  }
  if (!config.has_eviction()) {
    return KvCacheFactory([make_base, with_pruning]() -> absl::StatusOr<std::unique_ptr<KvCache>> {
      KVLAB_ASSIGN_OR_RETURN(Base base, make_base());
      std::unique_ptr<KvCache> cache = std::move(base.cache);
      return with_pruning(std::move(base), std::move(cache));
    });
  }

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
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<EvictionPolicy> checked, make_policy());
  KVLAB_ASSIGN_OR_RETURN(const std::vector<int64_t> budgets,
                         EvictionLayerBudgets(eviction, context.shape.num_layers,
                                              context.budget_reference_tokens));
  if (checked->AllocatesLayers()) {
    KVLAB_RETURN_IF_ERROR(CheckLayerAllocation(eviction, *checked, context, budgets));
  }
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
  return KvCacheFactory([make_base, make_policy, with_pruning, budgets,
                         schedule = context.eviction_schedule,
                         record = context.record_evictions, rope = context.rope, made,
                         seen_fraction]() -> absl::StatusOr<std::unique_ptr<KvCache>> {
    KVLAB_ASSIGN_OR_RETURN(Base base, make_base());
    KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<EvictionPolicy> policy, make_policy());
    KVLAB_ASSIGN_OR_RETURN(auto cache, EvictingKvCache::Create(std::move(base.cache),
                                                               std::move(policy), budgets,
                                                               schedule, (*made)++, record, rope,
                                                               seen_fraction));
    return with_pruning(std::move(base), std::move(cache));
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

std::string DescribeKeyChannels(const config::CacheConfig& config) {
  if (!config.has_key_channels()) return "";
  const config::KeyChannelsConfig& k = config.key_channels();
  return absl::StrFormat("key channels pruned %g (query window %d, recent %d whole)",
                         k.pruned_fraction(), k.has_query_window() ? k.query_window() : 32,
                         k.has_recent_tokens() ? k.recent_tokens() : 32);
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
