#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "gtest/gtest.h"
#include "policies/policy_test_util.h"
#include "policies/tova.pb.h"

namespace kvlab::policies {
namespace {

EvictionContext TwoHeadContext() {
  EvictionContext context = testing::MakeContext(2, 5, 2);
  // Earlier query rows must not matter; only the last one counts.
  at::Tensor rows = at::zeros({2, 2, 5});
  rows[0][0][0] = 1.0f;
  rows[0][1] = at::tensor({0.0f, 0.1f, 0.5f, 0.3f, 0.1f});
  rows[1][1] = at::tensor({0.4f, 0.0f, 0.0f, 0.2f, 0.4f});
  context.recent_attention = rows;
  return context;
}

TEST(TovaPolicyTest, AveragesHeadsAndKeepsWhatTheLastQueryAttends) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("tova", TovaOptions()));
  EXPECT_EQ(policy->Needs().recent_queries, 1);
  // Mean over heads: {0.2, 0.05, 0.25, 0.25, 0.25} -> keep two of 2, 3, 4; the same in
  // both heads.
  const at::Tensor kept = testing::KeptPositions(*policy, TwoHeadContext());
  EXPECT_TRUE(at::equal(kept[0], kept[1]));
  EXPECT_FALSE((kept[0] < 2).any().item<bool>());
}

TEST(TovaPolicyTest, PerHeadChoosesPerHead) {
  TovaOptions options;
  options.set_per_head(true);
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("tova", options));
  const at::Tensor kept = testing::KeptPositions(*policy, TwoHeadContext());
  EXPECT_TRUE(at::equal(kept[0], at::tensor({2, 3}, at::kLong)));
  EXPECT_TRUE(at::equal(kept[1], at::tensor({0, 4}, at::kLong)));
}

// The last query barely attends to the newest token (position 4): by default it is the
// first to go; keep_last_token keeps it and the best of the rest.
TEST(TovaPolicyTest, KeepLastTokenKeepsTheNewestWhateverItsScore) {
  EvictionContext context = testing::MakeContext(1, 5, 2);
  at::Tensor rows = at::zeros({1, 1, 5});
  rows[0][0] = at::tensor({0.1f, 0.2f, 0.6f, 0.09f, 0.01f});
  context.recent_attention = rows;
  ASSERT_OK_AND_ASSIGN(auto tova, testing::MakePolicy("tova", TovaOptions()));
  EXPECT_TRUE(at::equal(testing::KeptPositions(*tova, context)[0], at::tensor({1, 2}, at::kLong)));
  TovaOptions options;
  options.set_keep_last_token(true);
  ASSERT_OK_AND_ASSIGN(auto kvpress_tova, testing::MakePolicy("tova", options));
  EXPECT_TRUE(at::equal(testing::KeptPositions(*kvpress_tova, context)[0],
                        at::tensor({2, 4}, at::kLong)));
}

}  // namespace
}  // namespace kvlab::policies
