#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/h2o.pb.h"
#include "policies/policy_test_util.h"

namespace kvlab::policies {
namespace {

using ::testing::HasSubstr;

TEST(H2oPolicyTest, KeepsHeavyHittersAndRecentTokensPerHead) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("h2o", H2oOptions()));
  EXPECT_TRUE(policy->Needs().accumulated_attention);
  EvictionContext context = testing::MakeContext(2, 10, 4);
  at::Tensor attention = at::full({2, 10}, 0.1f);
  attention[0][2] = 5.0f;  // Head 0's heavy hitters: 2 and 5.
  attention[0][5] = 4.0f;
  attention[1][0] = 3.0f;  // Head 1's: 0 and 7.
  attention[1][7] = 2.0f;
  attention[1][9] = 9.0f;  // Recent anyway.
  context.accumulated_attention = attention;
  const at::Tensor kept = testing::KeptPositions(*policy, context);
  // Half the budget (2) is the recent window 8, 9; the other half the heaviest.
  EXPECT_TRUE(at::equal(kept[0], at::tensor({2, 5, 8, 9}, at::kLong)));
  EXPECT_TRUE(at::equal(kept[1], at::tensor({0, 7, 8, 9}, at::kLong)));
}

TEST(H2oPolicyTest, RecentTokensOverrideTheFraction) {
  H2oOptions options;
  options.set_recent_tokens(1);
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("h2o", options));
  EvictionContext context = testing::MakeContext(1, 6, 3);
  context.accumulated_attention = at::tensor({9.0f, 1.0f, 8.0f, 7.0f, 0.0f, 0.0f}).unsqueeze(0);
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, context)[0],
                        at::tensor({0, 2, 5}, at::kLong)));
}

TEST(H2oPolicyTest, RejectsBadFraction) {
  H2oOptions options;
  options.set_recent_fraction(1.5);
  EXPECT_THAT(testing::MakePolicy("h2o", options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("h2o.recent_fraction")));
}

// Four tokens after a 4-token step, seen by 4, 3, 2 and 1 queries. Sums 2.0, 2.1,
// 1.6, 0.9 rank the oldest first; their means 0.5, 0.7, 0.8, 0.9 the newest.
TEST(H2oPolicyTest, QueryMeanDividesByTheQueriesThatSawEachToken) {
  H2oOptions options;
  options.set_recent_fraction(0.0);
  ASSERT_OK_AND_ASSIGN(auto sum, testing::MakePolicy("h2o", options));
  options.set_normalization(H2oOptions::QUERY_MEAN);
  ASSERT_OK_AND_ASSIGN(auto mean, testing::MakePolicy("h2o", options));
  EvictionContext context = testing::MakeContext(1, 4, 2);
  context.step = 4;
  context.accumulated_attention = at::tensor({2.0f, 2.1f, 1.6f, 0.9f}).unsqueeze(0);
  EXPECT_TRUE(at::equal(testing::KeptPositions(*sum, context)[0], at::tensor({0, 1}, at::kLong)));
  EXPECT_TRUE(at::equal(testing::KeptPositions(*mean, context)[0], at::tensor({2, 3}, at::kLong)));
  // A sequence that starts at position 10: the same counts.
  context.positions = context.positions + 10;
  context.first_position = 10;
  EXPECT_TRUE(at::equal(testing::KeptPositions(*mean, context)[0], at::tensor({12, 13}, at::kLong)));
}

}  // namespace
}  // namespace kvlab::policies
