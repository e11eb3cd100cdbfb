#include <ATen/ATen.h>

#include <vector>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/policy_test_util.h"
#include "policies/snapkv.pb.h"

namespace kvlab::policies {
namespace {

using ::testing::HasSubstr;

// A context whose two window queries give each token, summed, the votes `votes` (one
// list per KV head): the first query gives nothing, the second everything.
EvictionContext VotedContext(const std::vector<std::vector<float>>& votes, int64_t budget) {
  const int64_t kv_heads = static_cast<int64_t>(votes.size());
  const int64_t length = static_cast<int64_t>(votes[0].size());
  EvictionContext context = testing::MakeContext(kv_heads, length, budget);
  at::Tensor rows = at::zeros({kv_heads, 2, length});
  for (int64_t h = 0; h < kv_heads; ++h) {
    for (int64_t t = 0; t < length; ++t) rows[h][1][t] = votes[h][t];
  }
  context.recent_attention = rows;
  return context;
}

SnapKvOptions Options(int window, int kernel, SnapKvOptions::Pooling pooling) {
  SnapKvOptions options;
  options.set_window(window);
  options.set_kernel_size(kernel);
  options.set_pooling(pooling);
  return options;
}

TEST(SnapKvPolicyTest, KeepsTheTopPrefixTokensPlusTheWindow) {
  ASSERT_OK_AND_ASSIGN(auto policy,
                       testing::MakePolicy("snapkv", Options(2, 1, SnapKvOptions::AVERAGE)));
  EXPECT_EQ(policy->Needs().recent_queries, 2);
  // Prefix 0..9, window 10..11. Budget 4: the two best prefix tokens, 3 and 7.
  std::vector<float> votes(12, 0.02f);
  votes[3] = 0.9f;
  votes[7] = 0.31f;
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, VotedContext({votes}, 4))[0],
                        at::tensor({3, 7, 10, 11}, at::kLong)));
}

// Average pooling over the prefix only, zero-padded at its ends (the reference slices
// the window off before pooling). Prefix votes [.30 .03 .01 0 0 .20], window [.9 .9]:
//   pooled[0] = (0 + .30 + .03) / 3 = .1100   pooled[1] = (.30 + .03 + .01) / 3 = .1133
//   pooled[4] = (0 + 0 + .20) / 3 = .0667     pooled[5] = (0 + .20 + 0) / 3 = .0667
// so budget 3 keeps token 1 and the window. Pooling into the window would have given
// token 5 (0 + .20 + .9) / 3 = .367 and kept it instead.
TEST(SnapKvPolicyTest, AveragePoolingStaysInsideThePrefix) {
  ASSERT_OK_AND_ASSIGN(auto policy,
                       testing::MakePolicy("snapkv", Options(2, 3, SnapKvOptions::AVERAGE)));
  EXPECT_TRUE(at::equal(
      testing::KeptPositions(*policy,
                             VotedContext({{0.30f, 0.03f, 0.01f, 0, 0, 0.20f, 0.9f, 0.9f}}, 3))[0],
      at::tensor({1, 6, 7}, at::kLong)));
}

// Max pooling, prefix votes [0 .3 0 0 .05 .2]: pooled [.3 .3 .3 .05 .2 .2], so budget 5
// keeps 0, 1, 2 and the window (token 5 would pool the window's .9 if it were scored).
TEST(SnapKvPolicyTest, MaxPoolingSpreadsToNeighboursInsideThePrefix) {
  ASSERT_OK_AND_ASSIGN(auto policy,
                       testing::MakePolicy("snapkv", Options(2, 3, SnapKvOptions::MAX)));
  EXPECT_TRUE(at::equal(
      testing::KeptPositions(*policy,
                             VotedContext({{0, 0.3f, 0, 0, 0.05f, 0.2f, 0.9f, 0.9f}}, 5))[0],
      at::tensor({0, 1, 2, 6, 7}, at::kLong)));
}

// Defaults: window 32, max pooling with kernel 7 (the paper's LongBench runs). A vote
// for token 0 alone spreads to tokens 0..3 (padding 3), which fill the 4 prefix slots.
TEST(SnapKvPolicyTest, DefaultsAreThePapersRuns) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("snapkv", SnapKvOptions()));
  EXPECT_EQ(policy->Needs().recent_queries, 32);
  std::vector<float> votes(40, 0.0f);
  votes[0] = 1.0f;
  const at::Tensor kept = testing::KeptPositions(*policy, VotedContext({votes}, 36))[0];
  EXPECT_TRUE(at::equal(kept.narrow(0, 0, 4), at::tensor({0, 1, 2, 3}, at::kLong)));
  EXPECT_TRUE(at::equal(kept.narrow(0, 4, 32), at::arange(8, 40, at::kLong)));
}

TEST(SnapKvPolicyTest, EachKvHeadKeepsItsOwnTokens) {
  ASSERT_OK_AND_ASSIGN(auto policy,
                       testing::MakePolicy("snapkv", Options(1, 1, SnapKvOptions::AVERAGE)));
  const at::Tensor kept = testing::KeptPositions(
      *policy, VotedContext({{0.5f, 0, 0, 0.1f, 0}, {0, 0, 0.7f, 0.1f, 0}}, 2));
  EXPECT_TRUE(at::equal(kept[0], at::tensor({0, 4}, at::kLong)));
  EXPECT_TRUE(at::equal(kept[1], at::tensor({2, 4}, at::kLong)));
}

TEST(SnapKvPolicyTest, AWindowAsLongAsTheCacheKeepsTheNewest) {
  ASSERT_OK_AND_ASSIGN(auto policy,
                       testing::MakePolicy("snapkv", Options(8, 3, SnapKvOptions::MAX)));
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, VotedContext({{1, 2, 3, 4, 5}}, 3))[0],
                        at::tensor({2, 3, 4}, at::kLong)));
}

TEST(SnapKvPolicyTest, RejectsEvenKernel) {
  SnapKvOptions options;
  options.set_kernel_size(4);
  EXPECT_THAT(testing::MakePolicy("snapkv", options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("snapkv.kernel_size")));
}

TEST(SnapKvPolicyTest, RejectsAnUnknownGqaAggregation) {
  SnapKvOptions options;
  options.set_gqa_aggregation(static_cast<SnapKvOptions::GqaAggregation>(3));
  EXPECT_THAT(testing::MakePolicy("snapkv", options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("snapkv.gqa_aggregation")));
}

}  // namespace
}  // namespace kvlab::policies
