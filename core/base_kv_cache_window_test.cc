// Sliding-window layers and per-layer rotary embeddings in the base cache, alone and
// under eviction.
#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "core/base_kv_cache.h"
#include "core/evicting_kv_cache.h"
#include "core/eviction_policy.h"
#include "core/kv_cache_test_util.h"
#include "core/reference_attention.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;
using testing::Sequence;
using testing::Slice;

constexpr int64_t kQHeads = 4, kKvHeads = 2, kHeadDim = 8;
constexpr double kGlobalBase = 10000.0, kLocalBase = 500.0;

TensorStoreFactory Dense() { return testing::DenseStores(kKvHeads, kHeadDim); }

absl::StatusOr<RotaryEmbedding> Rope(double base) {
  return RotaryEmbedding::Create(kHeadDim, kHeadDim, base, RopeStyle::kHalf);
}

// The ropes of MakeCache's two layers: base kGlobalBase, then base kLocalBase.
absl::StatusOr<LayerRopes> GlobalAndLocalRopes() {
  KVLAB_ASSIGN_OR_RETURN(RotaryEmbedding global, Rope(kGlobalBase));
  KVLAB_ASSIGN_OR_RETURN(RotaryEmbedding local, Rope(kLocalBase));
  return LayerRopes::PerLayer({std::move(global), std::move(local)});
}

// Layer 0 global (base kGlobalBase), layer 1 local with `window` (base kLocalBase).
absl::StatusOr<std::unique_ptr<BaseKvCache>> MakeCache(int64_t window) {
  KVLAB_ASSIGN_OR_RETURN(const LayerRopes ropes, GlobalAndLocalRopes());
  return testing::DenseCache({2, kQHeads, kKvHeads, kHeadDim, {0, window}}, ropes,
                             PositionMode::kOriginal);
}

Sequence RandomSequence(int64_t n) {
  return testing::RandomSequence(kQHeads, kKvHeads, n, kHeadDim);
}

// Query i attends keys max(0, i - window + 1)..i (window 0: 0..i), rotated with `base`.
at::Tensor WindowedReference(const Sequence& s, int64_t window, double base) {
  const int64_t n = s.q.size(1);
  const at::Tensor positions = at::arange(n, at::kLong);
  const at::Tensor q = testing::ReferenceRope(s.q, positions, base, kHeadDim, false);
  const at::Tensor k = testing::ReferenceRope(s.k, positions, base, kHeadDim, false);
  std::vector<at::Tensor> rows;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t first = window > 0 ? std::max<int64_t>(0, i - window + 1) : 0;
    rows.push_back(testing::ReferenceAttention(q.narrow(1, i, 1), k.narrow(1, first, i + 1 - first),
                                               s.v.narrow(1, first, i + 1 - first)));
  }
  return at::cat(rows, 1);
}

// Steps of uneven size, some longer than the window, match the windowed reference in
// the local layer and full causal attention (with its own rope base) in the global one.
TEST(BaseKvCacheWindowTest, StepsMatchWindowedReference) {
  constexpr int64_t kWindow = 5, kTokens = 23;
  ASSERT_OK_AND_ASSIGN(auto cache, MakeCache(kWindow));
  const Sequence s = RandomSequence(kTokens);
  const at::Tensor global = WindowedReference(s, 0, kGlobalBase);
  const at::Tensor local = WindowedReference(s, kWindow, kLocalBase);
  int64_t begin = 0;
  for (int64_t n : {3, 1, 7, 1, 1, 2, 8}) {
    absl::StatusOr<AttentionResult> g = cache->Attend(0, Slice(s, begin, n));
    absl::StatusOr<AttentionResult> l = cache->Attend(1, Slice(s, begin, n));
    ASSERT_THAT(g, IsOk());
    ASSERT_THAT(l, IsOk());
    EXPECT_TRUE(at::allclose(g->output, global.narrow(1, begin, n), 1e-4, 1e-5)) << begin;
    EXPECT_TRUE(at::allclose(l->output, local.narrow(1, begin, n), 1e-4, 1e-5)) << begin;
    begin += n;
    // Between steps the local layer holds exactly what the next query can see.
    EXPECT_EQ(cache->Length(1), std::min(begin, kWindow - 1));
    EXPECT_EQ(cache->Length(0), begin);
  }
  ASSERT_EQ(begin, kTokens);
  EXPECT_TRUE(at::equal(cache->Positions(1),
                        at::arange(kTokens - kWindow + 1, kTokens, at::kLong).repeat({kKvHeads, 1})));
}

// A prefill of several query blocks in a local layer scores each block against only
// the keys its window reaches: its output and statistics are the windowed reference's.
TEST(BaseKvCacheWindowTest, LongPrefillScoresOnlyTheWindowsKeys) {
  constexpr int64_t kWindow = 300;
  const int64_t n = 2 * BaseKvCache::kQueryBlock + 100;
  ASSERT_OK_AND_ASSIGN(auto cache, MakeCache(kWindow));
  const Sequence s = RandomSequence(n);
  AttentionInputs in = Slice(s, 0, n);
  in.stats_request.column_sums = true;
  in.stats_request.recent_queries = 40;
  ASSERT_OK_AND_ASSIGN(const AttentionResult local, cache->Attend(1, in));
  EXPECT_TRUE(at::allclose(local.output, WindowedReference(s, kWindow, kLocalBase), 1e-4, 1e-5));

  // The statistics against the reference's probabilities, one row per query.
  const at::Tensor positions = at::arange(n, at::kLong);
  const at::Tensor q = testing::ReferenceRope(s.q, positions, kLocalBase, kHeadDim, false);
  const at::Tensor k = testing::ReferenceRope(s.k, positions, kLocalBase, kHeadDim, false);
  const at::Tensor query = at::arange(n, at::kLong).unsqueeze(1);
  const at::Tensor key = at::arange(n, at::kLong).unsqueeze(0);
  const at::Tensor unseen = (key > query).logical_or(key <= query - kWindow);
  const int64_t group = kQHeads / kKvHeads;
  at::Tensor scores = at::matmul(q.view({kKvHeads, group, n, kHeadDim}),
                                 k.unsqueeze(1).transpose(2, 3)) /
                      std::sqrt(static_cast<double>(kHeadDim));
  const at::Tensor probs =
      at::softmax(scores.masked_fill(unseen, -std::numeric_limits<float>::infinity()), -1)
          .mean(1);  // [kv_heads, n, n]
  EXPECT_TRUE(at::allclose(local.stats.column_sums, probs.sum(1), 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(local.stats.recent, probs.narrow(1, n - 40, 40), 1e-4, 1e-6));
}

// Dropped tokens leave storage: the held bytes are those of window - 1 tokens, and the
// peak counts the longest step (window - 1 + n).
TEST(BaseKvCacheWindowTest, MemoryShowsTheWindow) {
  constexpr int64_t kWindow = 4;
  ASSERT_OK_AND_ASSIGN(auto cache, MakeCache(kWindow));
  const Sequence s = RandomSequence(20);
  ASSERT_THAT(cache->Attend(1, Slice(s, 0, 6)), IsOk());
  for (int64_t t = 6; t < 20; ++t) ASSERT_THAT(cache->Attend(1, Slice(s, t, 1)), IsOk());
  const int64_t token_bytes = 2 * kKvHeads * kHeadDim * 4;  // K and V, fp32.
  const CacheMemory memory = cache->Memory();
  EXPECT_EQ(memory.held_tokens, kWindow - 1);
  EXPECT_EQ(memory.held_bytes, (kWindow - 1) * token_bytes);
  EXPECT_EQ(memory.peak_held_bytes, 6 * token_bytes);
}

// Keeps the newest `budget` tokens, asking for every statistic so that the evicting
// cache has to keep them aligned with what the window drops.
class NewestPolicy : public EvictionPolicy {
 public:
  std::string Name() const override { return "newest"; }
  PolicyNeeds Needs() const override { return {true, 2, true}; }
  absl::StatusOr<at::Tensor> SelectKeep(const EvictionContext& context) override {
    const int64_t length = context.positions.size(1);
    EXPECT_EQ(context.accumulated_attention.size(1), length);
    EXPECT_EQ(context.key_norms.size(1), length);
    EXPECT_EQ(context.recent_attention.size(2), length);
    return at::arange(length - context.budget, length, at::kLong)
        .unsqueeze(0)
        .expand({kKvHeads, context.budget})
        .contiguous();
  }
};

// A budget at or above the window changes nothing in a local layer; a smaller one
// evicts inside the window, with statistics that stay one per held token.
TEST(BaseKvCacheWindowTest, EvictionAppliesOnTopOfTheWindow) {
  constexpr int64_t kWindow = 6, kTokens = 30;
  const Sequence s = RandomSequence(kTokens);
  const at::Tensor local = WindowedReference(s, kWindow, kLocalBase);
  for (int64_t budget : {int64_t{3}, kWindow, int64_t{50}}) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<BaseKvCache> base, MakeCache(kWindow));
    absl::StatusOr<std::unique_ptr<EvictingKvCache>> cache = EvictingKvCache::Create(
        std::move(base), std::make_unique<NewestPolicy>(), {budget, budget});
    ASSERT_THAT(cache, IsOk());
    ASSERT_THAT((*cache)->Attend(1, Slice(s, 0, 9)), IsOk());
    for (int64_t t = 9; t < kTokens; ++t) {
      absl::StatusOr<AttentionResult> out = (*cache)->Attend(1, Slice(s, t, 1));
      ASSERT_THAT(out, IsOk());
      if (budget >= kWindow - 1) {
        EXPECT_TRUE(at::allclose(out->output, local.narrow(1, t, 1), 1e-4, 1e-5)) << t;
      }
      EXPECT_EQ((*cache)->Length(1), std::min(budget, kWindow - 1));
    }
  }
}

TEST(BaseKvCacheWindowTest, RejectsInconsistentLayers) {
  ASSERT_OK_AND_ASSIGN(const LayerRopes ropes, GlobalAndLocalRopes());
  EXPECT_THAT(BaseKvCache::Create({3, kQHeads, kKvHeads, kHeadDim}, ropes,
                                  PositionMode::kOriginal, at::kCPU, Dense(), Dense()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2 ropes for 3 layers")));
  EXPECT_THAT(BaseKvCache::Create({2, kQHeads, kKvHeads, kHeadDim, {0}}, ropes,
                                  PositionMode::kOriginal, at::kCPU, Dense(), Dense()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 sliding windows")));
  EXPECT_THAT(BaseKvCache::Create({2, kQHeads, kKvHeads, kHeadDim, {0, -1}}, ropes,
                                  PositionMode::kOriginal, at::kCPU, Dense(), Dense()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sliding window")));
  ASSERT_OK_AND_ASSIGN(RotaryEmbedding global, Rope(kGlobalBase));
  ASSERT_OK_AND_ASSIGN(RotaryEmbedding narrow,
                       RotaryEmbedding::Create(4, 4, 100.0, RopeStyle::kHalf));
  EXPECT_THAT(LayerRopes::PerLayer({std::move(global), std::move(narrow)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("head_dim")));
}

// A layer that was retained from outside no longer knows its positions on the host and
// reads them back to decide what the window drops: both ways drop the same tokens.
TEST(BaseKvCacheWindowTest, DropsTheSameAfterARetainThatKeepsEverything) {
  constexpr int64_t kWindow = 5;
  const Sequence s = RandomSequence(16);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<BaseKvCache> tracked, MakeCache(kWindow));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<BaseKvCache> read_back, MakeCache(kWindow));
  int64_t position = 0;
  for (int64_t n : {3, 1, 4, 1, 1, 2, 1, 1, 1, 1}) {
    for (int layer = 0; layer < 2; ++layer) {
      auto a = tracked->Attend(layer, Slice(s, position, n));
      auto b = read_back->Attend(layer, Slice(s, position, n));
      ASSERT_THAT(a, IsOk());
      ASSERT_THAT(b, IsOk());
      EXPECT_TRUE(at::equal(a->output, b->output)) << "position " << position;
      EXPECT_TRUE(at::equal(tracked->Positions(layer), read_back->Positions(layer)));
      const int64_t length = read_back->Length(layer);
      ASSERT_THAT(read_back->Retain(layer, at::arange(length, at::kLong)
                                               .unsqueeze(0)
                                               .expand({kKvHeads, length})),
                  IsOk());
    }
    position += n;
  }
  EXPECT_EQ(tracked->Length(1), kWindow - 1);
  EXPECT_EQ(tracked->Memory().held_bytes, read_back->Memory().held_bytes);
}

}  // namespace
}  // namespace kvlab
