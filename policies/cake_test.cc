#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/cake.pb.h"
#include "policies/policy_test_util.h"

namespace kvlab::policies {
namespace {

using ::testing::HasSubstr;

CakeOptions Options(int window, int kernel, float gamma) {
  CakeOptions options;
  options.set_window(window);
  options.set_kernel_size(kernel);
  options.set_gamma(gamma);
  return options;
}

// One KV head shared by two query heads, two window queries, five tokens
// (prefix 0..2, window 3..4). Token 1 gets 0.35 from every query; token 0 gets
// 0.5 then 0.1 from one query head and 0.1 then 0.5 from the other, so its mean
// is 0.3 in each and its variance over the window (unbiased, two queries)
// (0.2^2 + 0.2^2) / 1 = 0.08 in each. The group's mean rows give token 0 0.3
// from both queries: no variance at all.
EvictionContext TwoHeadContext(int64_t budget) {
  EvictionContext context = testing::MakeContext(1, 5, budget);
  const at::Tensor a = at::tensor({0.5f, 0.35f, 0.05f, 0.05f, 0.05f});
  const at::Tensor b = at::tensor({0.1f, 0.35f, 0.05f, 0.25f, 0.25f});
  // [kv_heads 1, group 2, queries 2, length 5]
  context.recent_attention_by_query_head =
      at::stack({at::stack({a, b}), at::stack({b, a})}).unsqueeze(0);
  context.recent_attention = context.recent_attention_by_query_head.mean(1);
  return context;
}

// Without the variance term token 1 (0.35) beats token 0 (0.3); with gamma 1
// token 0 scores 0.3 + 0.08 = 0.38 in each query head and wins. From the
// group's mean rows it would not: the variance is per query head, as the
// reference computes it.
TEST(CakePolicyTest, TheVarianceOverTheWindowPerQueryHeadRaisesAToken) {
  ASSERT_OK_AND_ASSIGN(auto mean_only, testing::MakePolicy("cake", Options(2, 1, 0.0f)));
  EXPECT_TRUE(at::equal(testing::KeptPositions(*mean_only, TwoHeadContext(3))[0],
                        at::tensor({1, 3, 4}, at::kLong)));
  ASSERT_OK_AND_ASSIGN(auto with_variance, testing::MakePolicy("cake", Options(2, 1, 1.0f)));
  EXPECT_TRUE(at::equal(testing::KeptPositions(*with_variance, TwoHeadContext(3))[0],
                        at::tensor({0, 3, 4}, at::kLong)));
}

// Average pooling over the prefix, zeros counted. With gamma 1 the indicator is
// [0.38 0.35 0.05]: unpooled, token 0 wins (the test above); pooled over 3,
// token 0 gets (0 + 0.38 + 0.35) / 3 = 0.243 and token 1 (0.38 + 0.35 + 0.05) /
// 3 = 0.26, so budget 3 keeps token 1 and the window.
TEST(CakePolicyTest, PoolsTheIndicatorOverThePrefix) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("cake", Options(2, 3, 1.0f)));
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, TwoHeadContext(3))[0],
                        at::tensor({1, 3, 4}, at::kLong)));
}

// The preference: the entropy of the window's rows over the prefix, summed over
// query heads and queries (two rows hold 0.5, two 0.1, each 0.35 and 0.05),
// times their summed variance (0.08 for token 0 in each of the two query
// heads).
TEST(CakePolicyTest, PreferenceIsEntropyTimesVariance) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("cake", Options(2, 1, 200.0f)));
  EXPECT_TRUE(policy->AllocatesLayers());
  const auto h = [](double p) { return -p * std::log(p + 1e-10); };
  const double entropy = 2 * h(0.5) + 2 * h(0.1) + 4 * h(0.35) + 4 * h(0.05);
  ASSERT_OK_AND_ASSIGN(const double preference, policy->LayerPreference(TwoHeadContext(3)));
  EXPECT_NEAR(preference, entropy * 0.16, 1e-5);

  CakeOptions tempered = Options(2, 1, 200.0f);
  tempered.set_tau1(2.0f);
  tempered.set_tau2(0.5f);
  ASSERT_OK_AND_ASSIGN(auto tempered_policy, testing::MakePolicy("cake", tempered));
  ASSERT_OK_AND_ASSIGN(const double tempered_preference,
                       tempered_policy->LayerPreference(TwoHeadContext(3)));
  EXPECT_NEAR(tempered_preference, std::sqrt(entropy) * 0.16 * 0.16, 1e-6);
}

// Its ranking is SelectKeep's order: the window first, then by score.
TEST(CakePolicyTest, RanksTheWindowFirstThenByScore) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("cake", Options(2, 1, 1.0f)));
  ASSERT_OK_AND_ASSIGN(const at::Tensor ranked, policy->RankTokens(TwoHeadContext(3)));
  EXPECT_TRUE(at::equal(ranked[0], at::tensor({4, 3, 0, 1, 2}, at::kLong)));
}

// Defaults: the authors' LongBench script.
TEST(CakePolicyTest, DefaultsAreTheAuthorsScript) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("cake", CakeOptions()));
  EXPECT_EQ(policy->Needs().recent_queries, 32);
  EXPECT_TRUE(policy->Needs().recent_by_query_head);
  EXPECT_EQ(policy->ObservationWindow(), 32);
}

TEST(CakePolicyTest, RejectsBadOptions) {
  EXPECT_THAT(testing::MakePolicy("cake", Options(1, 5, 200.0f)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cake.window")));
  EXPECT_THAT(testing::MakePolicy("cake", Options(32, 4, 200.0f)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cake.kernel_size")));
  EXPECT_THAT(testing::MakePolicy("cake", Options(32, 5, -1.0f)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cake.gamma")));
  CakeOptions bad_tau = Options(32, 5, 200.0f);
  bad_tau.set_tau2(0.0f);
  EXPECT_THAT(testing::MakePolicy("cake", bad_tau),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cake.tau1 and cake.tau2")));
}

}  // namespace
}  // namespace kvlab::policies
