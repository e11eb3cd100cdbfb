#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/lagkv.pb.h"
#include "policies/policy_test_util.h"

namespace kvlab::policies {
namespace {

using ::testing::HasSubstr;

LagKvOptions SinkOneLagTwo() {
  LagKvOptions options;
  options.set_sink_tokens(1);
  options.set_lag_size(2);
  return options;
}

// Six tokens, 1 sink, lag 2: partitions {1, 2} and {3, 4}; {1, 2} is scored against
// {3, 4}; {3, 4} (the last full partition) and 5 are kept with the sink.
// Keys of 3 and 4: (0, 0) and (1, 1), so the reference range is [0, 1] in both
// channels and the scaled keys are the keys. Key 1 (0.5, 0.5) has std 0, key 2 (0, 1)
// std 0.7071 (unbiased): softmax 0.3302 and 0.6698. Values 1 and 2 are flat: std 0
// and 0, softmax 0.5 and 0.5. Scores (0.3302 + 0.5) / 2 = 0.415 and 0.585: token 2
// is the one kept of the two.
EvictionContext SixTokens() {
  EvictionContext context = testing::MakeContext(1, 6, 5);
  context.keys = at::tensor({9.0f, 9.0f, 0.5f, 0.5f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f, 1.0f,
                             3.0f, 3.0f})
                     .view({1, 6, 2});
  context.values = at::tensor({9.0f, 9.0f, 0.2f, 0.2f, 0.3f, 0.3f, 0.0f, 0.0f, 1.0f, 1.0f,
                               3.0f, 3.0f})
                       .view({1, 6, 2});
  return context;
}

TEST(LagKvPolicyTest, KeepsTheTokenThatVariesMoreAgainstTheNextPartition) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("lagkv", SinkOneLagTwo()));
  EXPECT_TRUE(policy->Needs().keys);
  EXPECT_TRUE(policy->Needs().values);
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, SixTokens())[0],
                        at::tensor({0, 2, 3, 4, 5}, at::kLong)));
  LagKvOptions cross = SinkOneLagTwo();
  cross.set_cross_scoring(true);
  ASSERT_OK_AND_ASSIGN(auto cross_policy, testing::MakePolicy("lagkv", cross));
  EXPECT_TRUE(at::equal(testing::KeptPositions(*cross_policy, SixTokens())[0],
                        at::tensor({0, 2, 3, 4, 5}, at::kLong)));
}

// With fewer than sinks + 2 lag tokens nothing is scored: sinks, then the most recent.
TEST(LagKvPolicyTest, ShortContextKeepsSinksAndRecent) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("lagkv", SinkOneLagTwo()));
  EvictionContext context = testing::MakeContext(1, 4, 2);
  context.keys = at::rand({1, 4, 2});
  context.values = at::rand({1, 4, 2});
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, context)[0],
                        at::tensor({0, 3}, at::kLong)));
}

// A budget below the always-kept sinks and tail (4 tokens here) keeps the sinks, then
// the most recent, not any part of them.
TEST(LagKvPolicyTest, ABudgetBelowTheKeptTokensKeepsTheSinksThenTheNewest) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("lagkv", SinkOneLagTwo()));
  EvictionContext context = SixTokens();
  context.budget = 3;
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, context)[0],
                        at::tensor({0, 4, 5}, at::kLong)));
}

TEST(LagKvPolicyTest, ErrorsNameTheField) {
  LagKvOptions options;
  options.set_lag_size(1);
  EXPECT_THAT(testing::MakePolicy("lagkv", options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lagkv.lag_size")));
  options = LagKvOptions();
  options.set_sink_tokens(-1);
  EXPECT_THAT(testing::MakePolicy("lagkv", options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lagkv.sink_tokens")));
}

}  // namespace
}  // namespace kvlab::policies
