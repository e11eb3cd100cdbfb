// Building KV caches from CacheConfig messages (core/cache_config.proto).
//
//   KVLAB_ASSIGN_OR_RETURN(KvCacheFactory make_cache, MakeCacheFactory(config, context));
//   KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> cache, make_cache());
//
// The config is validated once, when the factory is made: every error names the
// offending field relative to the CacheConfig ("eviction.budget.tokens must be >= 1").
#ifndef KVLAB_CORE_CACHE_BUILDER_H_
#define KVLAB_CORE_CACHE_BUILDER_H_

#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/base_kv_cache.h"
#include "core/cache_config.pb.h"
#include "core/evicting_kv_cache.h"
#include "core/kv_cache.h"
#include "core/rotary_embedding.h"

namespace kvlab {

// What a cache needs to know about the model and the protocol it serves.
struct CacheContext {
  AttentionShape shape;
  LayerRopes rope;  // One for every layer, or one per layer.
  c10::Device device = c10::kCPU;
  // Tokens that a fractional budget is a fraction of (the protocol's context).
  int64_t budget_reference_tokens = 0;
  // When an evicting cache evicts (evicting_kv_cache.h): the protocol decides.
  EvictionSchedule eviction_schedule = EvictionSchedule::kWheneverOverBudget;
  // Evicting caches record what each layer's evictions kept (EvictingKvCache::evictions).
  bool record_evictions = false;
};

absl::StatusOr<KvCacheFactory> MakeCacheFactory(const config::CacheConfig& config,
                                                const CacheContext& context);

// The token budget of every layer for `eviction`, as MakeCacheFactory's caches get it:
// LayerBudgets with the policy's observation window (PyramidKV's schedule keeps it).
// Errors name the field relative to the CacheConfig ("eviction.budget.tokens ...").
absl::StatusOr<std::vector<int64_t>> EvictionLayerBudgets(const config::EvictionConfig& eviction,
                                                          int num_layers,
                                                          int64_t reference_tokens);

// Short description of how a store keeps its tokens, e.g. "fp32" or
// "int4 (kvlab.quant.IntegerQuantizerOptions: bits: 4) + 32 fp32 residual".
std::string DescribeStore(const config::StoreConfig& config);

// Short description of a cache's key channel pruning, e.g. "key channels pruned 0.5
// (query window 32, recent 32 whole)"; empty without one.
std::string DescribeKeyChannels(const config::CacheConfig& config);

}  // namespace kvlab

#endif  // KVLAB_CORE_CACHE_BUILDER_H_
