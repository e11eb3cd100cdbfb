#include "core/per_head_kv_cache.h"

#include <ATen/ATen.h>

#include <memory>
#include <vector>

#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "core/base_kv_cache.h"
#include "core/evicting_kv_cache.h"
#include "core/kv_cache_test_util.h"
#include "core/reference_attention.h"
#include "core/scored_eviction_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Sequence;
using testing::Slice;

constexpr int64_t kQHeads = 6, kKvHeads = 2, kHeadDim = 8;
constexpr int64_t kGroup = kQHeads / kKvHeads;
constexpr double kBase = 10000.0;
// An fp32 token of one KV head: its key and its value.
constexpr int64_t kTokenBytes = 2 * kHeadDim * 4;

absl::StatusOr<RotaryEmbedding> Rope() {
  return RotaryEmbedding::Create(kHeadDim, kHeadDim, kBase, RopeStyle::kInterleaved);
}

absl::StatusOr<std::unique_ptr<PerHeadKvCache>> MakePerHead(int layers = 1) {
  KVLAB_ASSIGN_OR_RETURN(const RotaryEmbedding rope, Rope());
  std::vector<std::unique_ptr<KvCache>> heads;
  for (int64_t h = 0; h < kKvHeads; ++h) {
    KVLAB_ASSIGN_OR_RETURN(auto head, testing::DenseCache({layers, kGroup, 1, kHeadDim}, rope,
                                                          PositionMode::kOriginal));
    heads.push_back(std::move(head));
  }
  return PerHeadKvCache::Create(std::move(heads), kQHeads);
}

Sequence RandomSequence(int64_t n) {
  return testing::RandomSequence(kQHeads, kKvHeads, n, kHeadDim);
}

at::Tensor Rotate(const at::Tensor& x, const at::Tensor& positions) {
  return testing::ReferenceRope(x, positions, kBase, kHeadDim, true);
}

// While every head holds the same tokens, it is a cache of kv_heads heads: outputs,
// statistics and bytes equal the base cache's.
TEST(PerHeadKvCacheTest, RectangularEqualsTheBaseCache) {
  at::manual_seed(1);
  ASSERT_OK_AND_ASSIGN(auto per_head, MakePerHead());
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding rope, Rope());
  ASSERT_OK_AND_ASSIGN(auto base, testing::DenseCache({1, kQHeads, kKvHeads, kHeadDim}, rope,
                                                      PositionMode::kOriginal));
  const Sequence s = RandomSequence(9);
  for (auto [begin, n] : {std::pair<int64_t, int64_t>{0, 7}, {7, 2}}) {
    AttentionInputs in = Slice(s, begin, n);
    in.stats_request.column_sums = true;
    in.stats_request.recent_queries = 2;
    in.stats_request.keys = true;
    ASSERT_OK_AND_ASSIGN(const AttentionResult a, per_head->Attend(0, in));
    ASSERT_OK_AND_ASSIGN(const AttentionResult b, base->Attend(0, in));
    EXPECT_TRUE(at::allclose(a.output, b.output, 1e-5, 1e-6));
    EXPECT_TRUE(at::allclose(a.stats.column_sums, b.stats.column_sums, 1e-5, 1e-6));
    EXPECT_TRUE(at::allclose(a.stats.recent, b.stats.recent, 1e-5, 1e-6));
    EXPECT_TRUE(at::allclose(a.stats.keys, b.stats.keys, 1e-5, 1e-6));
  }
  EXPECT_EQ(per_head->Length(0), 9);
  EXPECT_TRUE(at::equal(per_head->Positions(0), base->Positions(0)));
  EXPECT_EQ(per_head->Memory().held_bytes, base->Memory().held_bytes);
  EXPECT_EQ(per_head->Memory().held_tokens, base->Memory().held_tokens);
  EXPECT_EQ(per_head->Memory().peak_held_bytes, base->Memory().peak_held_bytes);
}

// Without the output (a shared prefill's target) the heads' statistics still join.
TEST(PerHeadKvCacheTest, StatisticsWithoutTheOutput) {
  at::manual_seed(2);
  ASSERT_OK_AND_ASSIGN(auto per_head, MakePerHead());
  ASSERT_OK_AND_ASSIGN(auto reference, MakePerHead());
  const Sequence s = RandomSequence(9);
  AttentionInputs in = Slice(s, 0, 9);
  in.stats_request.recent_queries = 2;
  ASSERT_OK_AND_ASSIGN(const AttentionResult full, reference->Attend(0, in));
  in.output_wanted = false;
  ASSERT_OK_AND_ASSIGN(const AttentionResult stats_only, per_head->Attend(0, in));
  EXPECT_FALSE(stats_only.output.defined());
  EXPECT_TRUE(at::equal(stats_only.stats.recent, full.stats.recent));
  EXPECT_EQ(per_head->Length(0), 9);
}

// After a per-head retain each head attends exactly its own tokens: the reference is
// computed head by head over the kept keys, rotated at their original positions.
TEST(PerHeadKvCacheTest, EachHeadAttendsItsOwnTokens) {
  at::manual_seed(2);
  ASSERT_OK_AND_ASSIGN(auto cache, MakePerHead());
  const Sequence s = RandomSequence(9);
  ASSERT_THAT(cache->Attend(0, Slice(s, 0, 8)), IsOk());
  const int64_t held = cache->Memory().held_bytes;
  const std::vector<at::Tensor> keep = {at::tensor({0, 2, 5}, at::kLong),
                                        at::tensor({1, 3, 4, 6, 7}, at::kLong)};
  ASSERT_THAT(cache->RetainPerHead(0, keep), IsOk());
  // 16 tokens held, 8 kept: the bytes drop by exactly 8 tokens of one head.
  EXPECT_EQ(cache->Memory().held_bytes, held - 8 * kTokenBytes);
  EXPECT_EQ(cache->Memory().held_tokens, 4);
  EXPECT_THAT(cache->HeadLengths(0), ElementsAre(3, 5));
  EXPECT_EQ(cache->Length(0), 5);
  EXPECT_TRUE(at::equal(cache->Positions(0),
                        at::tensor({0, 2, 5, -1, -1, 1, 3, 4, 6, 7}, at::kLong).view({2, 5})));

  ASSERT_OK_AND_ASSIGN(const AttentionResult result, cache->Attend(0, Slice(s, 8, 1)));
  EXPECT_THAT(cache->HeadLengths(0), ElementsAre(4, 6));
  const at::Tensor eight = at::full({1}, 8, at::kLong);
  for (int64_t h = 0; h < kKvHeads; ++h) {
    const at::Tensor positions = at::cat({keep[h], eight});
    const at::Tensor k = Rotate(s.k.narrow(0, h, 1).index_select(1, positions), positions);
    const at::Tensor v = s.v.narrow(0, h, 1).index_select(1, positions);
    const at::Tensor q = Rotate(s.q.narrow(0, h * kGroup, kGroup).narrow(1, 8, 1), eight);
    const at::Tensor expected = testing::ReferenceAttention(q, k, v);
    EXPECT_TRUE(at::allclose(result.output.narrow(0, h * kGroup, kGroup), expected, 1e-4, 1e-5))
        << "KV head " << h;
  }
}

TEST(PerHeadKvCacheTest, RaggedHeadsHaveNoRectangularStatistics) {
  at::manual_seed(3);
  ASSERT_OK_AND_ASSIGN(auto cache, MakePerHead());
  const Sequence s = RandomSequence(5);
  ASSERT_THAT(cache->Attend(0, Slice(s, 0, 4)), IsOk());
  ASSERT_THAT(cache->RetainPerHead(0, {at::tensor({0}, at::kLong), at::tensor({1, 2}, at::kLong)}),
              IsOk());
  AttentionInputs in = Slice(s, 4, 1);
  in.stats_request.column_sums = true;
  EXPECT_THAT(cache->Attend(0, in).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("different numbers")));
}

TEST(PerHeadKvCacheTest, RejectsBadInput) {
  EXPECT_THAT(PerHeadKvCache::Create({}, kQHeads).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  ASSERT_OK_AND_ASSIGN(auto cache, MakePerHead());
  EXPECT_THAT(cache->RetainPerHead(0, {at::tensor({0}, at::kLong)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("one keep per KV head")));
  const Sequence wrong = testing::RandomSequence(kQHeads, 1, 2, kHeadDim);
  EXPECT_THAT(cache->Attend(0, Slice(wrong, 0, 2)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

// Scores fixed by the test; the last `recent` tokens protected.
class FixedScores : public ScoredEvictionPolicy {
 public:
  FixedScores(at::Tensor scores, int64_t recent) : scores_(std::move(scores)), recent_(recent) {}
  std::string Name() const override { return "fixed"; }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext&) override { return scores_; }
  ProtectedTokens Protected(const EvictionContext&) const override { return {0, recent_}; }

 private:
  at::Tensor scores_;
  int64_t recent_;
};

// Head 0's scores are spread out, head 1's concentrated on its last token.
at::Tensor SpreadAndConcentrated() {
  return at::tensor({0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f,  //
                     0.10f, 0.01f, 0.02f, 0.03f, 0.04f, 0.95f})
      .view({2, 6});
}

EvictionContext ContextOf(int64_t budget) {
  EvictionContext context;
  context.budget = budget;
  context.positions = at::arange(6, at::kLong).unsqueeze(0).expand({2, 6});
  return context;
}

std::vector<std::vector<int64_t>> Sorted(const std::vector<at::Tensor>& keep) {
  std::vector<std::vector<int64_t>> out;
  for (const at::Tensor& k : keep) {
    const at::Tensor s = std::get<0>(k.sort()).contiguous();
    out.emplace_back(s.data_ptr<int64_t>(), s.data_ptr<int64_t>() + s.numel());
  }
  return out;
}

// Hand-computed: budget 3, 6 tokens in all over the two heads.
TEST(AdaKvAllocationTest, OneTopKAcrossHeadsAfterTheSafeguard) {
  FixedScores policy(SpreadAndConcentrated(), 0);
  // alpha 0.34: floor(1.02) = 1 safeguarded token per head (0 in head 0, 5 in head 1),
  // then the best 4 of the rest, all in head 0 (0.8, 0.7, 0.6, 0.5 > 0.10).
  policy.set_head_allocation({true, 0.34});
  ASSERT_OK_AND_ASSIGN(std::vector<at::Tensor> keep, policy.SelectKeepPerHead(ContextOf(3)));
  EXPECT_THAT(Sorted(keep), ElementsAre(ElementsAre(0, 1, 2, 3, 4), ElementsAre(5)));
  // alpha 0.67: floor(2.01) = 2 per head (0, 1 and 5, 0), then 0.7 and 0.6 in head 0.
  policy.set_head_allocation({true, 0.67});
  ASSERT_OK_AND_ASSIGN(keep, policy.SelectKeepPerHead(ContextOf(3)));
  EXPECT_THAT(Sorted(keep), ElementsAre(ElementsAre(0, 1, 2, 3), ElementsAre(0, 5)));
  // alpha 1: every head keeps its own best 3, as without AdaKV.
  policy.set_head_allocation({true, 1.0});
  ASSERT_OK_AND_ASSIGN(keep, policy.SelectKeepPerHead(ContextOf(3)));
  EXPECT_THAT(Sorted(keep), ElementsAre(ElementsAre(0, 1, 2), ElementsAre(0, 4, 5)));
}

TEST(AdaKvAllocationTest, ProtectedTokensStayInEveryHead) {
  // alpha 0: no safeguard, but the last token is protected: pinned in both heads, then
  // the best 4 of the rest (0.9, 0.8, 0.7, 0.6, all in head 0).
  FixedScores policy(SpreadAndConcentrated(), 1);
  policy.set_head_allocation({true, 0.0});
  ASSERT_OK_AND_ASSIGN(std::vector<at::Tensor> keep, policy.SelectKeepPerHead(ContextOf(3)));
  EXPECT_THAT(Sorted(keep), ElementsAre(ElementsAre(0, 1, 2, 3, 5), ElementsAre(5)));
  // Protected tokens filling the budget leave nothing to share: every head keeps them.
  FixedScores all_protected(SpreadAndConcentrated(), 3);
  all_protected.set_head_allocation({true, 0.2});
  ASSERT_OK_AND_ASSIGN(keep, all_protected.SelectKeepPerHead(ContextOf(3)));
  EXPECT_THAT(Sorted(keep), ElementsAre(ElementsAre(3, 4, 5), ElementsAre(3, 4, 5)));
}

// Through the evicting cache: one compression after the prefill leaves the heads
// ragged, the bytes drop by exactly the evicted tokens', and the decode appends.
TEST(AdaKvAllocationTest, EvictingCacheRetainsPerHead) {
  at::manual_seed(4);
  ASSERT_OK_AND_ASSIGN(auto inner, MakePerHead());
  PerHeadKvCache* per_head = inner.get();
  auto policy = std::make_unique<FixedScores>(SpreadAndConcentrated(), 0);
  policy->set_head_allocation({true, 0.34});
  ASSERT_OK_AND_ASSIGN(auto cache,
                       EvictingKvCache::Create(std::move(inner), std::move(policy), {3},
                                               EvictionSchedule::kOnceAfterPrefill));
  const Sequence s = RandomSequence(7);
  ASSERT_THAT(cache->Attend(0, Slice(s, 0, 6)), IsOk());
  EXPECT_THAT(per_head->HeadLengths(0), ElementsAre(5, 1));
  EXPECT_EQ(cache->Memory().held_bytes, 6 * kTokenBytes);
  EXPECT_EQ(cache->Memory().peak_held_bytes, 12 * kTokenBytes);
  ASSERT_THAT(cache->Attend(0, Slice(s, 6, 1)), IsOk());
  EXPECT_THAT(per_head->HeadLengths(0), ElementsAre(6, 2));
  EXPECT_EQ(cache->Memory().held_bytes, 8 * kTokenBytes);
}

TEST(AdaKvAllocationTest, NeedsTheCompressOnceSchedule) {
  ASSERT_OK_AND_ASSIGN(auto inner, MakePerHead());
  auto policy = std::make_unique<FixedScores>(SpreadAndConcentrated(), 0);
  policy->set_head_allocation({true});
  EXPECT_THAT(EvictingKvCache::Create(std::move(inner), std::move(policy), {3}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("compress_once")));
}

}  // namespace
}  // namespace kvlab
