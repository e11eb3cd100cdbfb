#include "core/evicting_kv_cache.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "base/status_matchers.h"
#include "core/base_kv_cache.h"
#include "core/kv_cache_test_util.h"
#include "core/reference_attention.h"
#include "core/scored_eviction_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kQHeads = 4, kKvHeads = 2, kHeadDim = 8;

std::unique_ptr<KvCache> MakeBase(int layers = 1) {
  const absl::StatusOr<RotaryEmbedding> rope =
      RotaryEmbedding::Create(kHeadDim, kHeadDim, 10000.0, RopeStyle::kInterleaved);
  EXPECT_THAT(rope, IsOk());
  if (!rope.ok()) return nullptr;
  return ValueOrAddFailure(
      testing::DenseCache({layers, kQHeads, kKvHeads, kHeadDim}, *rope, PositionMode::kOriginal));
}

// Records what it was shown and keeps a fixed pattern: the newest token and the
// oldest budget - 1.
class RecordingPolicy : public EvictionPolicy {
 public:
  explicit RecordingPolicy(PolicyNeeds needs) : needs_(needs) {}
  std::string Name() const override { return "recording"; }
  PolicyNeeds Needs() const override { return needs_; }
  absl::StatusOr<at::Tensor> SelectKeep(const EvictionContext& context) override {
    ++calls;
    // Context tensors are views that eviction then compacts: keep copies.
    last = context;
    for (at::Tensor* t :
         {&last.positions, &last.accumulated_attention, &last.recent_attention,
          &last.recent_attention_by_query_head, &last.key_norms, &last.keys, &last.values,
          &last.queries}) {
      if (t->defined()) *t = t->clone();
    }
    const int64_t length = context.positions.size(1);
    at::Tensor keep = at::cat({at::arange(context.budget - 1, at::kLong),
                               at::full({1}, length - 1, at::kLong)});
    return keep.unsqueeze(0).expand({kKvHeads, context.budget}).contiguous();
  }
  int calls = 0;
  EvictionContext last;

 private:
  PolicyNeeds needs_;
};

using Step = testing::Sequence;

Step RandomStep(int64_t n) { return testing::RandomSequence(kQHeads, kKvHeads, n, kHeadDim); }

AttentionInputs Inputs(const Step& s, int64_t first_position) {
  return testing::WholeAt(s, first_position);
}

TEST(EvictingKvCacheTest, WithinBudgetEqualsTheBaseCacheExactly) {
  auto recording = std::make_unique<RecordingPolicy>(PolicyNeeds{true, 2, true});
  RecordingPolicy* policy = recording.get();
  ASSERT_OK_AND_ASSIGN(auto evicting,
                       EvictingKvCache::Create(MakeBase(), std::move(recording), {16}));
  auto base = MakeBase();
  for (int64_t t = 0; t < 16; ++t) {
    const Step s = RandomStep(1);
    ASSERT_OK_AND_ASSIGN(const AttentionResult a, evicting->Attend(0, Inputs(s, t)));
    ASSERT_OK_AND_ASSIGN(const AttentionResult b, base->Attend(0, Inputs(s, t)));
    EXPECT_TRUE(at::equal(a.output, b.output));
  }
  EXPECT_EQ(policy->calls, 0);
}

TEST(EvictingKvCacheTest, EvictedTokensAreGoneFromStorageAndAttention) {
  auto recording = std::make_unique<RecordingPolicy>(PolicyNeeds{});
  RecordingPolicy* policy = recording.get();
  ASSERT_OK_AND_ASSIGN(auto cache, EvictingKvCache::Create(MakeBase(), std::move(recording), {4}));
  const Step prefill = RandomStep(6);
  ASSERT_THAT(cache->Attend(0, Inputs(prefill, 0)), IsOk());
  EXPECT_EQ(policy->calls, 1);
  EXPECT_EQ(policy->last.budget, 4);
  EXPECT_EQ(policy->last.step, 6);
  EXPECT_EQ(cache->Length(0), 4);
  EXPECT_TRUE(at::equal(cache->Positions(0)[0], at::tensor({0, 1, 2, 5}, at::kLong)));
  EXPECT_EQ(cache->Memory().held_bytes, 2 * 4 * kKvHeads * kHeadDim * 4);

  // The next query attends to exactly the four kept tokens and itself.
  const Step next = RandomStep(1);
  ASSERT_OK_AND_ASSIGN(const AttentionResult step, cache->Attend(0, Inputs(next, 6)));
  const at::Tensor out = step.output;
  const at::Tensor kept = at::tensor({0, 1, 2, 5}, at::kLong);
  const at::Tensor positions = at::tensor({0, 1, 2, 5, 6}, at::kLong);
  const auto rotate = [](const at::Tensor& x, const at::Tensor& p) {
    return testing::ReferenceRope(x, p, 10000.0, kHeadDim, true);
  };
  const at::Tensor keys = at::cat({prefill.k.index_select(1, kept), next.k}, 1);
  const at::Tensor values = at::cat({prefill.v.index_select(1, kept), next.v}, 1);
  const at::Tensor expected = testing::ReferenceAttention(
      rotate(next.q, at::tensor({6}, at::kLong)), rotate(keys, positions), values);
  EXPECT_TRUE(at::allclose(out, expected, 1e-4, 1e-5));
  EXPECT_EQ(cache->Length(0), 4);
}

TEST(EvictingKvCacheTest, RecordsTheMassAndPositionsEachEvictionKeeps) {
  // The same steps through a recording cache and a plain one: outputs are identical,
  // and the record holds the share of the last query's attention on the kept tokens.
  auto make = [](bool record) {
    return EvictingKvCache::Create(MakeBase(), std::make_unique<RecordingPolicy>(PolicyNeeds{}),
                                   {4}, EvictionSchedule::kWheneverOverBudget, 0, record);
  };
  ASSERT_OK_AND_ASSIGN(auto recording, make(true));
  ASSERT_OK_AND_ASSIGN(auto plain, make(false));
  EXPECT_EQ(plain->evictions(), nullptr);
  ASSERT_NE(recording->evictions(), nullptr);
  EXPECT_EQ(recording->evictions()->at(0).evictions, 0);

  const Step prefill = RandomStep(6);
  ASSERT_OK_AND_ASSIGN(AttentionResult a, recording->Attend(0, Inputs(prefill, 0)));
  ASSERT_OK_AND_ASSIGN(AttentionResult b, plain->Attend(0, Inputs(prefill, 0)));
  EXPECT_TRUE(at::equal(a.output, b.output));
  EXPECT_FALSE(a.stats.recent.defined());  // The caller asked for no statistics.

  // The last query (position 5) over positions 0..5, averaged over each KV head's two
  // query heads; the policy keeps 0, 1, 2 and 5.
  const auto rotate = [](const at::Tensor& x, const at::Tensor& p) {
    return testing::ReferenceRope(x, p, 10000.0, kHeadDim, true);
  };
  const at::Tensor positions = at::arange(6, at::kLong);
  const at::Tensor q = rotate(prefill.q.narrow(1, 5, 1), at::tensor({5}, at::kLong));
  const at::Tensor k = rotate(prefill.k, positions).repeat_interleave(kQHeads / kKvHeads, 0);
  const at::Tensor probs = at::softmax(at::matmul(q, k.transpose(1, 2)) / std::sqrt(kHeadDim), -1)
                               .squeeze(1)
                               .view({kKvHeads, kQHeads / kKvHeads, 6})
                               .mean(1);
  const at::Tensor kept = at::tensor({0, 1, 2, 5}, at::kLong);
  const at::Tensor want = probs.index_select(1, kept).sum(1);
  const LayerEvictions& e = recording->evictions()->at(0);
  EXPECT_EQ(e.evictions, 1);
  EXPECT_TRUE(at::allclose(e.retained_mass_sum, want, 1e-5, 1e-6))
      << e.retained_mass_sum << " vs " << want;
  EXPECT_TRUE(at::equal(e.kept_positions, kept.unsqueeze(0).expand({kKvHeads, 4})));

  // Each later step evicts once more; positions follow the latest.
  for (int64_t t = 6; t < 9; ++t) {
    const Step s = RandomStep(1);
    ASSERT_OK_AND_ASSIGN(AttentionResult x, recording->Attend(0, Inputs(s, t)));
    ASSERT_OK_AND_ASSIGN(AttentionResult y, plain->Attend(0, Inputs(s, t)));
    EXPECT_TRUE(at::equal(x.output, y.output));
  }
  EXPECT_EQ(e.evictions, 4);
  EXPECT_TRUE(at::equal(e.kept_positions[1], at::tensor({0, 1, 2, 8}, at::kLong)));
  const at::Tensor mean = e.retained_mass_sum / e.evictions;
  EXPECT_TRUE((mean > 0).all().item<bool>() && (mean <= 1).all().item<bool>());
}

// Leaves layer 0 alone.
class SkipFirstLayerPolicy : public RecordingPolicy {
 public:
  SkipFirstLayerPolicy() : RecordingPolicy(PolicyNeeds{}) {}
  bool CompressesLayer(int layer) const override { return layer != 0; }
};

TEST(EvictingKvCacheTest, ALayerThePolicyDoesNotCompressKeepsEveryToken) {
  auto skipping = std::make_unique<SkipFirstLayerPolicy>();
  RecordingPolicy* policy = skipping.get();
  ASSERT_OK_AND_ASSIGN(auto cache,
                       EvictingKvCache::Create(MakeBase(2), std::move(skipping), {4, 4}));
  const Step prefill = RandomStep(6);
  ASSERT_THAT(cache->Attend(0, Inputs(prefill, 0)), IsOk());
  ASSERT_THAT(cache->Attend(1, Inputs(prefill, 0)), IsOk());
  EXPECT_EQ(policy->calls, 1);
  EXPECT_EQ(policy->last.layer, 1);
  EXPECT_EQ(cache->Length(0), 6);
  EXPECT_EQ(cache->Length(1), 4);
  // Both layers' tokens are held and counted.
  EXPECT_EQ(cache->Memory().held_bytes, 2 * (6 + 4) * kKvHeads * kHeadDim * 4);
}

TEST(EvictingKvCacheTest, OnceAfterPrefillCompressesThePrefillThenOnlyAppends) {
  auto recording = std::make_unique<RecordingPolicy>(PolicyNeeds{true, 2, true});
  RecordingPolicy* policy = recording.get();
  ASSERT_OK_AND_ASSIGN(
      auto cache, EvictingKvCache::Create(MakeBase(), std::move(recording), {4},
                                          EvictionSchedule::kOnceAfterPrefill, /*sequence=*/5));
  ASSERT_THAT(cache->Attend(0, Inputs(RandomStep(6), 0)), IsOk());
  EXPECT_EQ(policy->calls, 1);
  EXPECT_EQ(policy->last.step, 6);
  EXPECT_EQ(policy->last.sequence, 5);
  EXPECT_EQ(cache->Length(0), 4);
  // The policy's statistics are freed with the prefill compressed: what metadata is
  // left is the base cache's own, as for four tokens that were never evicted.
  auto plain = MakeBase();
  ASSERT_THAT(plain->Attend(0, Inputs(RandomStep(4), 0)), IsOk());
  EXPECT_EQ(cache->Memory().metadata_bytes, plain->Memory().metadata_bytes);
  for (int64_t t = 6; t < 10; ++t) {
    ASSERT_THAT(cache->Attend(0, Inputs(RandomStep(1), t)), IsOk());
  }
  EXPECT_EQ(policy->calls, 1);
  EXPECT_EQ(cache->Length(0), 8);
  EXPECT_TRUE(at::equal(cache->Positions(0)[0], at::tensor({0, 1, 2, 5, 6, 7, 8, 9}, at::kLong)));
}

TEST(EvictingKvCacheTest, OnceAfterPrefillLeavesAShortPrefillWhole) {
  auto recording = std::make_unique<RecordingPolicy>(PolicyNeeds{});
  RecordingPolicy* policy = recording.get();
  ASSERT_OK_AND_ASSIGN(auto cache, EvictingKvCache::Create(MakeBase(), std::move(recording), {4},
                                                           EvictionSchedule::kOnceAfterPrefill));
  ASSERT_THAT(cache->Attend(0, Inputs(RandomStep(3), 0)), IsOk());
  for (int64_t t = 3; t < 7; ++t) {
    ASSERT_THAT(cache->Attend(0, Inputs(RandomStep(1), t)), IsOk());
  }
  EXPECT_EQ(policy->calls, 0);
  EXPECT_EQ(cache->Length(0), 7);
}

TEST(EvictingKvCacheTest, AFractionOfSeenBudgetCompressesToItsShareEveryIntervalTokens) {
  auto recording = std::make_unique<RecordingPolicy>(PolicyNeeds{});
  RecordingPolicy* policy = recording.get();
  ASSERT_OK_AND_ASSIGN(
      auto cache, EvictingKvCache::Create(MakeBase(), std::move(recording), {1},
                                          EvictionSchedule::kWheneverOverBudget, 0, false,
                                          std::nullopt, SeenFraction{0.3, 4}));
  EXPECT_EQ(cache->budget(0), 0);
  // Decoded a token at a time: every 4th token the layer drops to floor(0.3 x seen).
  int64_t held = 0, calls = 0;
  for (int64_t seen = 1; seen <= 21; ++seen) {
    ASSERT_THAT(cache->Attend(0, Inputs(RandomStep(1), seen - 1)), IsOk());
    ++held;
    if (seen % 4 == 0) {
      const int64_t share = std::max<int64_t>(1, static_cast<int64_t>(std::floor(0.3 * seen)));
      if (held > share) {
        held = share;
        ++calls;
        EXPECT_EQ(policy->last.budget, share) << "seen " << seen;
        EXPECT_EQ(cache->budget(0), share);
      }
    }
    EXPECT_EQ(cache->Length(0), held) << "seen " << seen;
  }
  EXPECT_EQ(policy->calls, calls);
  EXPECT_EQ(calls, 5);  // At 4, 8, 12, 16 and 20 tokens: 1, 2, 3, 4 and 6 kept.
  EXPECT_EQ(cache->Length(0), 7);
}

TEST(EvictingKvCacheTest, AFractionOfSeenBudgetCountsAPrefillStepAsItsTokens) {
  auto recording = std::make_unique<RecordingPolicy>(PolicyNeeds{});
  RecordingPolicy* policy = recording.get();
  ASSERT_OK_AND_ASSIGN(
      auto cache, EvictingKvCache::Create(MakeBase(), std::move(recording), {1},
                                          EvictionSchedule::kWheneverOverBudget, 0, false,
                                          std::nullopt, SeenFraction{0.5, 8}));
  // 10 tokens cross the first multiple of 8: compressed to floor(0.5 x 10).
  ASSERT_THAT(cache->Attend(0, Inputs(RandomStep(10), 0)), IsOk());
  EXPECT_EQ(policy->calls, 1);
  EXPECT_EQ(cache->Length(0), 5);
  // Up to 15 tokens seen: no multiple of 8 is crossed, the layer grows.
  for (int64_t t = 10; t < 15; ++t) ASSERT_THAT(cache->Attend(0, Inputs(RandomStep(1), t)), IsOk());
  EXPECT_EQ(cache->Length(0), 10);
  ASSERT_THAT(cache->Attend(0, Inputs(RandomStep(1), 15)), IsOk());
  EXPECT_EQ(cache->Length(0), 8);
  EXPECT_EQ(policy->calls, 2);
}

TEST(EvictingKvCacheTest, AFractionOfSeenBudgetNeedsADecodingSchedule) {
  EXPECT_THAT(EvictingKvCache::Create(MakeBase(), std::make_unique<RecordingPolicy>(PolicyNeeds{}),
                                      {1}, EvictionSchedule::kOnceAfterPrefill, 0, false,
                                      std::nullopt, SeenFraction{0.5, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fraction_of_seen")));
  EXPECT_THAT(EvictingKvCache::Create(MakeBase(), std::make_unique<RecordingPolicy>(PolicyNeeds{}),
                                      {1}, EvictionSchedule::kWheneverOverBudget, 0, false,
                                      std::nullopt, SeenFraction{1.5, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("(0, 1)")));
}

TEST(EvictingKvCacheTest, PolicySeesAccumulatedAttentionRecentRowsAndKeyNorms) {
  auto recording = std::make_unique<RecordingPolicy>(PolicyNeeds{true, 2, true});
  RecordingPolicy* policy = recording.get();
  ASSERT_OK_AND_ASSIGN(auto cache, EvictingKvCache::Create(MakeBase(), std::move(recording), {5}));
  const Step a = RandomStep(3), b = RandomStep(3);
  ASSERT_THAT(cache->Attend(0, Inputs(a, 0)), IsOk());
  ASSERT_THAT(cache->Attend(0, Inputs(b, 3)), IsOk());
  ASSERT_EQ(policy->calls, 1);
  // Reference: all six queries over all six keys, causal.
  const at::Tensor p6 = at::arange(6, at::kLong);
  const auto rotate = [](const at::Tensor& x, const at::Tensor& p) {
    return testing::ReferenceRope(x, p, 10000.0, kHeadDim, true);
  };
  at::Tensor probs;
  testing::ReferenceAttention(rotate(at::cat({a.q, b.q}, 1), p6), rotate(at::cat({a.k, b.k}, 1), p6),
                              at::cat({a.v, b.v}, 1), &probs);
  const at::Tensor per_kv = probs.view({kKvHeads, kQHeads / kKvHeads, 6, 6}).mean(1);
  EXPECT_TRUE(at::allclose(policy->last.accumulated_attention, per_kv.sum(1), 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(policy->last.recent_attention, per_kv.narrow(1, 4, 2), 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(policy->last.key_norms, at::cat({a.k, b.k}, 1).norm(2, -1), 1e-5, 1e-6));
  // Statistics are compacted with the tokens.
  ASSERT_THAT(cache->Attend(0, Inputs(RandomStep(1), 6)), IsOk());
  EXPECT_EQ(policy->last.accumulated_attention.size(1), 6);
  EXPECT_GT(cache->Memory().metadata_bytes, 0);
}

TEST(EvictingKvCacheTest, PolicySeesRecentRowsPerQueryHead) {
  PolicyNeeds needs;
  needs.recent_queries = 2;
  needs.recent_by_query_head = true;
  auto recording = std::make_unique<RecordingPolicy>(needs);
  RecordingPolicy* policy = recording.get();
  ASSERT_OK_AND_ASSIGN(auto cache, EvictingKvCache::Create(MakeBase(), std::move(recording), {4}));
  const Step a = RandomStep(6);
  ASSERT_THAT(cache->Attend(0, Inputs(a, 0)), IsOk());
  ASSERT_EQ(policy->calls, 1);
  const at::Tensor p6 = at::arange(6, at::kLong);
  const auto rotate = [](const at::Tensor& x, const at::Tensor& p) {
    return testing::ReferenceRope(x, p, 10000.0, kHeadDim, true);
  };
  at::Tensor probs;
  testing::ReferenceAttention(rotate(a.q, p6), rotate(a.k, p6), a.v, &probs);
  const at::Tensor by_head = probs.view({kKvHeads, kQHeads / kKvHeads, 6, 6}).narrow(2, 4, 2);
  EXPECT_TRUE(at::allclose(policy->last.recent_attention_by_query_head, by_head, 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(policy->last.recent_attention, by_head.mean(1), 1e-4, 1e-5));
}

// Prefers old tokens, keeps the newest (its window) and gives each layer a fixed
// preference: a stand-in for CAKE whose shares are easy to follow.
class LayerPreferring : public ScoredEvictionPolicy {
 public:
  explicit LayerPreferring(std::vector<double> preferences)
      : preferences_(std::move(preferences)) {}
  std::string Name() const override { return "layer-preferring"; }
  int64_t ObservationWindow() const override { return 1; }
  bool AllocatesLayers() const override { return true; }
  absl::StatusOr<double> LayerPreference(const EvictionContext& context) override {
    return preferences_[context.layer];
  }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    return -context.positions.to(at::kFloat);
  }
  ProtectedTokens Protected(const EvictionContext&) const override { return {0, 1}; }

 private:
  std::vector<double> preferences_;
};

// Budget 3 in each of 3 layers, window 1: the layers share (3 - 1) x 3 = 6 tokens
// beyond their windows. Preferences 1, 2, 3 and six-token prefills (at most 5 beyond
// the window):
//   after layer 0: its share is all 6, capped at 5, so it keeps its 6 tokens;
//   after layer 1: shares 2 and 4, so layers 0 and 1 keep 3 and 5 tokens;
//   after layer 2: shares 1, 2 and 3, so they keep 2, 3 and 4.
// Each keeps its oldest tokens (the scorer's choice) and its newest (the window).
TEST(EvictingKvCacheTest, ACascadeSharesTheBudgetByLayerPreference) {
  ASSERT_OK_AND_ASSIGN(
      auto cache,
      EvictingKvCache::Create(MakeBase(3),
                              std::make_unique<LayerPreferring>(std::vector<double>{1, 2, 3}),
                              {3, 3, 3}, EvictionSchedule::kOnceAfterPrefill));
  const auto positions = [&](int layer) { return cache->Positions(layer)[0]; };
  const Step prefill = RandomStep(6);
  ASSERT_THAT(cache->Attend(0, Inputs(prefill, 0)), IsOk());
  EXPECT_EQ(cache->Length(0), 6);
  ASSERT_THAT(cache->Attend(1, Inputs(prefill, 0)), IsOk());
  EXPECT_TRUE(at::equal(positions(0), at::tensor({0, 1, 5}, at::kLong)));
  EXPECT_TRUE(at::equal(positions(1), at::tensor({0, 1, 2, 3, 5}, at::kLong)));
  ASSERT_THAT(cache->Attend(2, Inputs(prefill, 0)), IsOk());
  EXPECT_TRUE(at::equal(positions(0), at::tensor({0, 5}, at::kLong)));
  EXPECT_TRUE(at::equal(positions(1), at::tensor({0, 1, 5}, at::kLong)));
  EXPECT_TRUE(at::equal(positions(2), at::tensor({0, 1, 2, 5}, at::kLong)));
  EXPECT_EQ(cache->budget(0), 2);
  EXPECT_EQ(cache->budget(2), 4);
  // Nine tokens in all, as three layers of budget 3 hold; the decode only appends.
  EXPECT_EQ(cache->Memory().held_bytes, 2 * 9 * kKvHeads * kHeadDim * 4);
  ASSERT_THAT(cache->Attend(0, Inputs(RandomStep(1), 6)), IsOk());
  EXPECT_EQ(cache->Length(0), 3);
}

TEST(EvictingKvCacheTest, ACascadeNeedsCompressOnceAndABudgetAboveTheWindow) {
  const auto make = [](std::vector<int64_t> budgets, EvictionSchedule schedule) {
    return EvictingKvCache::Create(MakeBase(2),
                                   std::make_unique<LayerPreferring>(std::vector<double>{1, 1}),
                                   std::move(budgets), schedule);
  };
  EXPECT_THAT(make({3, 3}, EvictionSchedule::kWheneverOverBudget),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("compress_once")));
  EXPECT_THAT(make({3, 1}, EvictionSchedule::kOnceAfterPrefill),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("observation window of 1 tokens")));
}

// Keys (rotated at their original positions), values and the step's queries
// (unrotated), with the layer's rotary embedding and where the sequence started.
TEST(EvictingKvCacheTest, PolicySeesHeldKeysValuesAndTheStepsQueries) {
  PolicyNeeds needs;
  needs.keys = true;
  needs.values = true;
  needs.queries = true;
  auto recording = std::make_unique<RecordingPolicy>(needs);
  RecordingPolicy* policy = recording.get();
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding rope,
                       RotaryEmbedding::Create(kHeadDim, kHeadDim, 10000.0, RopeStyle::kInterleaved));
  ASSERT_OK_AND_ASSIGN(auto cache,
                       EvictingKvCache::Create(MakeBase(), std::move(recording), {5},
                                               EvictionSchedule::kWheneverOverBudget, 0, false,
                                               LayerRopes(rope)));
  const Step a = RandomStep(3), b = RandomStep(3);
  ASSERT_THAT(cache->Attend(0, Inputs(a, 10)), IsOk());
  EXPECT_EQ(policy->calls, 0);
  ASSERT_THAT(cache->Attend(0, Inputs(b, 13)), IsOk());
  ASSERT_EQ(policy->calls, 1);
  const at::Tensor positions = at::arange(10, 16, at::kLong);
  const at::Tensor keys = testing::ReferenceRope(at::cat({a.k, b.k}, 1), positions, 10000.0,
                                                 kHeadDim, true);
  EXPECT_TRUE(at::allclose(policy->last.keys, keys, 1e-5, 1e-6));
  EXPECT_TRUE(at::equal(policy->last.values, at::cat({a.v, b.v}, 1)));
  EXPECT_TRUE(at::equal(policy->last.queries, b.q));
  EXPECT_EQ(policy->last.rope->head_dim(), kHeadDim);
  EXPECT_EQ(policy->last.first_position, 10);
  EXPECT_EQ(policy->last.step, 6);
}

TEST(EvictingKvCacheTest, APolicyThatReadsQueriesNeedsTheRotaryEmbeddings) {
  PolicyNeeds needs;
  needs.queries = true;
  EXPECT_THAT(EvictingKvCache::Create(MakeBase(), std::make_unique<RecordingPolicy>(needs), {5})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rotary embeddings")));
}

class BadPolicy : public EvictionPolicy {
 public:
  explicit BadPolicy(at::Tensor keep) : keep_(std::move(keep)) {}
  std::string Name() const override { return "bad"; }
  absl::StatusOr<at::Tensor> SelectKeep(const EvictionContext&) override { return keep_; }

 private:
  at::Tensor keep_;
};

TEST(EvictingKvCacheTest, RejectsMalformedChoices) {
  const std::vector<std::pair<at::Tensor, const char*>> cases = {
      {at::zeros({kKvHeads, 3}, at::kLong), "expected int64 [2, 2]"},
      {at::full({kKvHeads, 2}, 9, at::kLong), "outside [0, 3)"},
      {at::zeros({kKvHeads, 2}, at::kLong), "same token twice"},
  };
  for (const auto& [keep, message] : cases) {
    ASSERT_OK_AND_ASSIGN(
        auto cache, EvictingKvCache::Create(MakeBase(), std::make_unique<BadPolicy>(keep), {2}));
    EXPECT_THAT(cache->Attend(0, Inputs(RandomStep(3), 0)),
                StatusIs(absl::StatusCode::kInternal, HasSubstr(message)));
  }
  EXPECT_THAT(EvictingKvCache::Create(MakeBase(2), std::make_unique<BadPolicy>(at::Tensor()), {4}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 budgets for 2 layers")));
}

// A scored policy that prefers old tokens, to check protection.
class OldestFirst : public ScoredEvictionPolicy {
 public:
  explicit OldestFirst(ProtectedTokens keep) : keep_(keep) {}
  std::string Name() const override { return "oldest"; }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    return -context.positions.to(at::kFloat);
  }
  ProtectedTokens Protected(const EvictionContext&) const override { return keep_; }

 private:
  ProtectedTokens keep_;
};

at::Tensor KeptPositions(ProtectedTokens protect, int64_t length, int64_t budget) {
  OldestFirst policy(protect);
  EvictionContext context;
  context.budget = budget;
  context.positions = at::arange(100, 100 + length, at::kLong).unsqueeze(0).repeat({kKvHeads, 1});
  context.positions[0][0] = 0;  // A sink-position token in head 0 only.
  const at::Tensor keep = ValueOrAddFailure(policy.SelectKeep(context));
  return std::get<0>(context.positions.gather(1, keep).sort(1));
}

TEST(ScoredEvictionPolicyTest, ProtectsRecentTokensThenScores) {
  const at::Tensor kept = KeptPositions({0, 2}, 10, 4);
  EXPECT_TRUE(at::equal(kept[1], at::tensor({100, 101, 108, 109}, at::kLong)));
}

TEST(ScoredEvictionPolicyTest, SinksOutrankRecentWhenTheBudgetIsTight) {
  const at::Tensor kept = KeptPositions({4, 5}, 10, 3);
  EXPECT_TRUE(at::equal(kept[0], at::tensor({0, 108, 109}, at::kLong)));
  EXPECT_TRUE(at::equal(kept[1], at::tensor({107, 108, 109}, at::kLong)));
}

}  // namespace
}  // namespace kvlab
