// KvCache: the key/value cache of one sequence, for every layer of a model.
//
// The model hands each layer's new keys and values to Attend(), which stores them and
// returns attention computed over exactly what the cache then holds. The cache owns
// attention so that what is attended is what is stored: a quantized cache attends its
// quantized tokens (the new ones included), an evicting cache attends what it kept.
//
// Implementations: BaseKvCache (base_kv_cache.h), which keeps per-layer tensor stores
// (dense or quantized) on a device; EvictingKvCache (eviction), a decorator that owns
// another KvCache and trims it after every step with an eviction policy;
// PerHeadKvCache (per_head_kv_cache.h), one cache per KV head, so that heads may hold
// different numbers of tokens (AdaKV's per-head budgets).
//
// Shapes (one sequence; batches use one cache per sequence):
//   queries [q_heads, n, head_dim], keys and values [kv_heads, n, head_dim], fp32,
//   before rotary embedding. Query head h reads KV head h / (q_heads / kv_heads).
//
// Thread-compatible: one thread drives a cache at a time.
#ifndef KVLAB_CORE_KV_CACHE_H_
#define KVLAB_CORE_KV_CACHE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace kvlab {

// What Attend() may also report, beyond the attention output. Statistics are
// aggregated over the query heads that share a KV head (mean), so each has one value
// per (KV head, cached token).
struct AttentionStatsRequest {
  // Sum over this step's n queries of each cached token's attention probability.
  bool column_sums = false;
  // The attention rows of the last `recent_queries` queries of this step (fewer if the
  // step has fewer queries).
  int64_t recent_queries = 0;
  // Those rows also per query head (AttentionStats::recent_by_query_head), for scorers
  // whose statistic is not linear in the attention (CAKE's variance and entropy).
  bool recent_by_query_head = false;
  // The held keys and values as attention reads them (after any quantization), keys
  // rotated at their original positions whatever the cache's position mode: a
  // temporary copy, for scorers that read the tokens themselves (KeyDiff, LagKV).
  bool keys = false;
  bool values = false;

  // Whether any attention-weight statistic is asked for.
  bool any() const { return column_sums || recent_queries > 0; }
};

struct AttentionStats {
  at::Tensor column_sums;    // [kv_heads, length] fp32, or undefined.
  at::Tensor recent;         // [kv_heads, min(recent_queries, n), length] fp32, or undefined.
  // [kv_heads, group, min(recent_queries, n), length] fp32, or undefined: `recent` before
  // the mean over the group's query heads.
  at::Tensor recent_by_query_head;
  at::Tensor keys;           // [kv_heads, length, head_dim] fp32, or undefined.
  at::Tensor values;         // [kv_heads, length, head_dim] fp32, or undefined.
};

struct AttentionInputs {
  at::Tensor queries;  // [q_heads, n, head_dim]
  at::Tensor keys;     // [kv_heads, n, head_dim]
  at::Tensor values;   // [kv_heads, n, head_dim]
  // Original position of the first of the n tokens; the others follow consecutively.
  int64_t first_position = 0;
  AttentionStatsRequest stats_request;
  // Whether the caller reads AttentionResult::output. A shared prefill's caches do not
  // (eval/model/shared_prefill.h): a cache may then leave it undefined and compute only
  // the statistics asked for, each exactly as it would have beside the output.
  bool output_wanted = true;
};

struct AttentionResult {
  at::Tensor output;  // [q_heads, n, head_dim] fp32; may be undefined if not output_wanted.
  AttentionStats stats;
};

// Bytes a cache holds. `held_bytes` counts all of the keys' and values' storage for the
// live tokens: every payload, scale, zero point and full-precision residual token.
// `allocated_bytes` adds reserved but unused capacity. `peak_held_bytes` is the largest
// `held_bytes` ever reached, measured right after each append (before any eviction),
// so transient peaks inside a step count. `metadata_bytes` is bookkeeping
// beside the keys and values (original positions, eviction statistics), which a
// production cache may not need and is therefore kept apart.
struct CacheMemory {
  int64_t held_bytes = 0;
  int64_t allocated_bytes = 0;
  int64_t peak_held_bytes = 0;
  int64_t metadata_bytes = 0;
  int64_t held_tokens = 0;  // Summed over layers (a token in 30 layers counts 30).
};

class KvCache {
 public:
  virtual ~KvCache() = default;

  // Stores the new tokens of `layer` and returns attention of the new queries over
  // everything the layer holds afterwards: query i sees every earlier token still held
  // and new tokens 0..i (causal).
  virtual absl::StatusOr<AttentionResult> Attend(int layer, const AttentionInputs& inputs) = 0;

  // Keeps only the tokens at `keep` ([kv_heads, m] int64 indices into the layer's
  // current order, ascending per row) and frees or reuses the rest's storage.
  virtual absl::Status Retain(int layer, const at::Tensor& keep) = 0;
  // Keeps a different set of tokens in each KV head: `keep[h]` is [m_h] int64 indices
  // into head h's current order, ascending. Only a cache that stores each head apart
  // (PerHeadKvCache) can; the others answer Unimplemented.
  virtual absl::Status RetainPerHead(int layer, absl::Span<const at::Tensor> keep) {
    return absl::UnimplementedError(
        "this cache holds the same tokens in every KV head; per-head budgets need a "
        "per-head cache");
  }

  // Tokens held by `layer`: the same count for every KV head, or, once a per-head
  // retain made the heads differ, the most any head holds.
  virtual int64_t Length(int layer) const = 0;
  // Original positions of the held tokens of `layer`: [kv_heads, Length(layer)] int64;
  // where heads hold fewer than Length(layer), their rows end in -1.
  virtual at::Tensor Positions(int layer) const = 0;

  virtual CacheMemory Memory() const = 0;
  virtual int num_layers() const = 0;
};

// Makes a fresh, empty cache for one sequence.
using KvCacheFactory = std::function<absl::StatusOr<std::unique_ptr<KvCache>>()>;

}  // namespace kvlab

#endif  // KVLAB_CORE_KV_CACHE_H_
