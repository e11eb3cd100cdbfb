// Helpers for the cache tests: random unrotated sequences fed to a cache step by step,
// and base caches over dense fp32 stores on the CPU.
//
//   const Sequence s = RandomSequence(4, 2, 10, 8);
//   ASSERT_OK_AND_ASSIGN(auto cache, DenseCache({1, 4, 2, 8}, rope, PositionMode::kOriginal));
//   ASSERT_OK_AND_ASSIGN(AttentionResult first, cache->Attend(0, Slice(s, 0, 6)));
//   ASSERT_OK_AND_ASSIGN(AttentionResult rest, cache->Attend(0, Slice(s, 6, 4)));
#ifndef KVLAB_CORE_KV_CACHE_TEST_UTIL_H_
#define KVLAB_CORE_KV_CACHE_TEST_UTIL_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "core/base_kv_cache.h"
#include "core/kv_cache.h"
#include "core/rotary_embedding.h"

namespace kvlab::testing {

// Queries, keys and values of one sequence, before any rotation: q [q_heads, n, d],
// k and v [kv_heads, n, d], fp32.
struct Sequence {
  at::Tensor q, k, v;
};

// Standard normal draws from the global generator (seed it with at::manual_seed), in the
// order q, k, v.
Sequence RandomSequence(int64_t q_heads, int64_t kv_heads, int64_t n, int64_t head_dim);

// Tokens begin..begin + n - 1 of `s`, contiguous, as one Attend() step at position
// `begin`.
AttentionInputs Slice(const Sequence& s, int64_t begin, int64_t n);

// All of `s` as one Attend() step whose first token sits at `first_position`.
AttentionInputs WholeAt(const Sequence& s, int64_t first_position);

// Stores of `dtype` holding [kv_heads, tokens, head_dim] on the CPU, for every layer.
TensorStoreFactory DenseStores(int64_t kv_heads, int64_t head_dim,
                               at::ScalarType dtype = at::kFloat);

// A base cache of `shape` (sliding windows included) over fp32 DenseStores on the CPU.
absl::StatusOr<std::unique_ptr<BaseKvCache>> DenseCache(const AttentionShape& shape,
                                                        const LayerRopes& ropes,
                                                        PositionMode mode);

}  // namespace kvlab::testing

#endif  // KVLAB_CORE_KV_CACHE_TEST_UTIL_H_
