// PerHeadKvCache: a KvCache that stores each KV head in a cache of its own, so that
// heads may hold different numbers of tokens (AdaKV's per-head budgets) and each
// holds only its own: nothing is padded or masked, and the bytes are those kept.
//
// It owns kv_heads caches of one KV head each (BaseKvCaches of AttentionShape
// {kv_heads = 1, q_heads = the group}, made by the same store factories as any other
// cache, quantized or not). Attend() hands each head its KV head's keys and values and
// its group of query heads, and concatenates the outputs; each head attends exactly
// the tokens it holds. RetainPerHead() keeps a different set in each head.
//
// While every head holds the same number of tokens it behaves as one cache of
// kv_heads heads (statistics included). Once they differ:
//   - Length(layer) is the most any head holds and HeadLengths(layer) says each;
//   - Positions(layer) is [kv_heads, Length(layer)], rows padded with -1;
//   - attention statistics cannot be rectangular: asking for them is FailedPrecondition
//     (eviction that reads them runs before the heads differ: see EvictingKvCache).
//
// Memory() sums the heads. Its peak is the sum of each head's peak: the cache's true
// peak when the heads peak at the same step, as they do when one compression after
// the prefill made them differ (each head's largest moment is then the end of the
// prefill, when all are equal, or the last step, when all have grown), an upper bound
// otherwise. held_tokens counts the mean over heads (total / kv_heads), so that bytes
// per token stay those of one token in every head.
#ifndef KVLAB_CORE_PER_HEAD_KV_CACHE_H_
#define KVLAB_CORE_PER_HEAD_KV_CACHE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kv_cache.h"

namespace kvlab {

class PerHeadKvCache : public KvCache {
 public:
  // `heads`: one cache per KV head, each of one KV head and q_heads / heads.size()
  // query heads, all of the same number of layers and empty.
  static absl::StatusOr<std::unique_ptr<PerHeadKvCache>> Create(
      std::vector<std::unique_ptr<KvCache>> heads, int64_t q_heads);

  absl::StatusOr<AttentionResult> Attend(int layer, const AttentionInputs& inputs) override;
  // The same `keep` rows per head, as a cache of kv_heads heads would.
  absl::Status Retain(int layer, const at::Tensor& keep) override;
  absl::Status RetainPerHead(int layer, absl::Span<const at::Tensor> keep) override;
  int64_t Length(int layer) const override;
  at::Tensor Positions(int layer) const override;
  CacheMemory Memory() const override;
  int num_layers() const override { return heads_.front()->num_layers(); }

  // Tokens each KV head of `layer` holds.
  std::vector<int64_t> HeadLengths(int layer) const;
  int64_t kv_heads() const { return static_cast<int64_t>(heads_.size()); }
  const KvCache& head(int64_t h) const { return *heads_[h]; }

 private:
  PerHeadKvCache(std::vector<std::unique_ptr<KvCache>> heads, int64_t group)
      : heads_(std::move(heads)), group_(group) {}
  bool Rectangular(int layer) const;

  std::vector<std::unique_ptr<KvCache>> heads_;
  int64_t group_;  // Query heads per KV head.
};

}  // namespace kvlab

#endif  // KVLAB_CORE_PER_HEAD_KV_CACHE_H_
