#include "core/key_channel_pruning_kv_cache.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "core/base_kv_cache.h"
#include "core/channel_pruned_key_store.h"
#include "core/dense_tensor_store.h"
#include "core/evicting_kv_cache.h"
#include "core/eviction_policy.h"
#include "core/key_channel_scores.h"
#include "core/kv_cache_test_util.h"
#include "core/reference_attention.h"
#include "core/rotary_embedding.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kQHeads = 4;
constexpr int64_t kKvHeads = 2;
constexpr int64_t kHeadDim = 8;
constexpr int64_t kPrefill = 12;
constexpr int64_t kDecode = 3;

RotaryEmbedding Rope() {
  return *RotaryEmbedding::Create(kHeadDim, kHeadDim, 10000.0, RopeStyle::kInterleaved);
}

// Keeps different tokens per head: head 0 the newest `budget`, head 1 the oldest
// budget - 1 and the newest.
class TwoWayPolicy : public EvictionPolicy {
 public:
  std::string Name() const override { return "two_way"; }
  absl::StatusOr<at::Tensor> SelectKeep(const EvictionContext& context) override {
    const int64_t length = context.positions.size(1), budget = context.budget;
    return at::stack({at::arange(length - budget, length, at::kLong),
                      at::cat({at::arange(budget - 1, at::kLong),
                               at::full({1}, length - 1, at::kLong)})});
  }
};


// A one-layer cache whose keys are ChannelPrunedKeyStores over fp32 dense stores,
// evicting to `budget` once after the prefill when budget > 0.
absl::StatusOr<std::unique_ptr<KeyChannelPruningKvCache>> MakeCache(KeyChannelPruning options,
                                                                    int64_t budget = 0) {
  const auto dense = [](int64_t head_dim) -> absl::StatusOr<std::unique_ptr<TensorStore>> {
    KVLAB_ASSIGN_OR_RETURN(auto store,
                           DenseTensorStore::Create(kKvHeads, head_dim, at::kFloat, c10::kCPU));
    return std::unique_ptr<TensorStore>(std::move(store));
  };
  std::vector<ChannelPrunedKeyStore*> key_stores;
  const TensorStoreFactory keys =
      [&](int) -> absl::StatusOr<std::unique_ptr<TensorStore>> {
    KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<TensorStore> full, dense(kHeadDim));
    auto store = std::make_unique<ChannelPrunedKeyStore>(kKvHeads, kHeadDim, std::move(full), dense);
    key_stores.push_back(store.get());
    return std::unique_ptr<TensorStore>(std::move(store));
  };
  const LayerRopes ropes(Rope());
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> cache,
                         BaseKvCache::Create({1, kQHeads, kKvHeads, kHeadDim}, ropes,
                                             PositionMode::kOriginal, c10::kCPU, keys,
                                             testing::DenseStores(kKvHeads, kHeadDim)));
  if (budget > 0) {
    KVLAB_ASSIGN_OR_RETURN(cache, EvictingKvCache::Create(std::move(cache),
                                                          std::make_unique<TwoWayPolicy>(),
                                                          {budget},
                                                          EvictionSchedule::kOnceAfterPrefill));
  }
  return KeyChannelPruningKvCache::Create(std::move(cache), key_stores, ropes, options);
}

// What the cache should attend after the prefill, computed from the definitions: keys
// and values `held` [kv_heads, m] of the prefill (indices), the window's rotated
// queries scoring the held rotated keys, the first m - recent keys zeroed outside each
// head's kept channels, then the decode tokens whole.
struct Expected {
  at::Tensor q, k, v;  // Rotated queries, pruned rotated keys and values of every step.
  at::Tensor kept;
};

Expected ExpectedAfterPruning(const testing::Sequence& s, const at::Tensor& held,
                              const KeyChannelPruning& options) {
  const at::Tensor positions = at::arange(kPrefill + kDecode, at::kLong);
  const at::Tensor q = Rope().Apply(s.q, positions);
  const at::Tensor k = Rope().Apply(s.k, positions);
  const int64_t m = held.size(1);
  const auto gather = [&](const at::Tensor& x) {
    return x.gather(1, held.unsqueeze(2).expand({kKvHeads, m, kHeadDim}));
  };
  const at::Tensor held_keys = gather(k);
  Expected e;
  e.q = q;
  e.kept = KeptKeyChannels(
      KeyChannelScores(q.narrow(1, kPrefill - options.query_window, options.query_window),
                       held_keys),
      options.pruned_channels);
  at::Tensor mask = at::zeros({kKvHeads, 1, kHeadDim});
  mask.scatter_(2, e.kept.unsqueeze(1), 1.f);
  at::Tensor pruned = held_keys.clone();
  pruned.narrow(1, 0, m - options.recent_tokens).mul_(mask);
  e.k = at::cat({pruned, k.narrow(1, kPrefill, kDecode)}, 1);
  e.v = at::cat({gather(s.v), s.v.narrow(1, kPrefill, kDecode)}, 1);
  return e;
}

void ExpectDecodeMatches(KvCache& cache, const testing::Sequence& s, const Expected& e,
                         int64_t held) {
  for (int64_t i = 0; i < kDecode; ++i) {
    ASSERT_OK_AND_ASSIGN(const AttentionResult step, cache.Attend(0, testing::Slice(s, kPrefill + i, 1)));
    const at::Tensor expected = testing::ReferenceAttention(
        e.q.narrow(1, kPrefill + i, 1), e.k.narrow(1, 0, held + i + 1),
        e.v.narrow(1, 0, held + i + 1));
    EXPECT_TRUE(at::allclose(step.output, expected, 1e-4, 1e-5)) << "decode step " << i;
  }
}

TEST(KeyChannelPruningKvCacheTest, DecodeAttendsThePrefillKeysWithTheirPrunedChannelsZeroed) {
  const KeyChannelPruning options{/*pruned_channels=*/3, /*query_window=*/4, /*recent_tokens=*/3};
  ASSERT_OK_AND_ASSIGN(auto cache, MakeCache(options));
  const testing::Sequence s = testing::RandomSequence(kQHeads, kKvHeads, kPrefill + kDecode, kHeadDim);
  const Expected e = ExpectedAfterPruning(
      s, at::arange(kPrefill, at::kLong).repeat({kKvHeads, 1}), options);

  // The prefill itself attends every channel.
  ASSERT_OK_AND_ASSIGN(const AttentionResult prefill, cache->Attend(0, testing::Slice(s, 0, kPrefill)));
  const at::Tensor positions = at::arange(kPrefill, at::kLong);
  EXPECT_TRUE(at::allclose(prefill.output,
                           testing::ReferenceAttention(e.q.narrow(1, 0, kPrefill),
                                                       Rope().Apply(s.k.narrow(1, 0, kPrefill), positions),
                                                       s.v.narrow(1, 0, kPrefill)),
                           1e-4, 1e-5));
  EXPECT_TRUE(at::equal(cache->key_store(0).kept_channels(), e.kept));
  EXPECT_EQ(cache->key_store(0).pruned_length(), kPrefill - 3);

  // Bytes: values whole, 9 keys at 5 channels, 3 keys at 8, and the 2 x 5 indices.
  const int64_t values = kKvHeads * kPrefill * kHeadDim * 4;
  const int64_t keys = kKvHeads * (9 * 5 + 3 * kHeadDim) * 4 + kKvHeads * 5 * 8;
  EXPECT_EQ(cache->Memory().held_bytes, values + keys);
  EXPECT_EQ(cache->Memory().peak_held_bytes, 2 * values);  // The prefill held every channel.

  ExpectDecodeMatches(*cache, s, e, kPrefill);
  EXPECT_EQ(cache->Memory().held_bytes,
            values + keys + 2 * kDecode * kKvHeads * kHeadDim * 4);
}

TEST(KeyChannelPruningKvCacheTest, PrunesWhatEvictionKeptAfterThePrefill) {
  const KeyChannelPruning options{/*pruned_channels=*/4, /*query_window=*/4, /*recent_tokens=*/2};
  constexpr int64_t kBudget = 7;
  ASSERT_OK_AND_ASSIGN(auto cache, MakeCache(options, kBudget));
  const testing::Sequence s = testing::RandomSequence(kQHeads, kKvHeads, kPrefill + kDecode, kHeadDim);
  const at::Tensor held = at::stack({at::arange(kPrefill - kBudget, kPrefill, at::kLong),
                                     at::cat({at::arange(kBudget - 1, at::kLong),
                                              at::full({1}, kPrefill - 1, at::kLong)})});
  const Expected e = ExpectedAfterPruning(s, held, options);

  ASSERT_OK_AND_ASSIGN(const AttentionResult prefill, cache->Attend(0, testing::Slice(s, 0, kPrefill)));
  EXPECT_EQ(cache->Length(0), kBudget);
  EXPECT_TRUE(at::equal(cache->Positions(0), held));
  EXPECT_TRUE(at::equal(cache->key_store(0).kept_channels(), e.kept));
  EXPECT_EQ(cache->key_store(0).pruned_length(), kBudget - 2);
  const int64_t values = kKvHeads * kBudget * kHeadDim * 4;
  const int64_t keys = kKvHeads * ((kBudget - 2) * 4 + 2 * kHeadDim) * 4 + kKvHeads * 4 * 8;
  EXPECT_EQ(cache->Memory().held_bytes, values + keys);
  ExpectDecodeMatches(*cache, s, e, kBudget);
}

TEST(KeyChannelPruningKvCacheTest, RefusesBadOptions) {
  EXPECT_THAT(MakeCache({/*pruned_channels=*/kHeadDim, 4, 2}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("drops 1 to 7 channels")));
  EXPECT_THAT(MakeCache({3, /*query_window=*/0, 2}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("query_window >= 1")));
}

}  // namespace
}  // namespace kvlab
