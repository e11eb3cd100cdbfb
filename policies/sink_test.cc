#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/policy_test_util.h"
#include "policies/sink.pb.h"

namespace kvlab::policies {
namespace {

using ::testing::HasSubstr;

TEST(SinkPolicyTest, KeepsFourSinksAndARecentWindowByDefault) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("sink", SinkOptions()));
  const at::Tensor kept = testing::KeptPositions(*policy, testing::MakeContext(1, 20, 7));
  EXPECT_TRUE(at::equal(kept[0], at::tensor({0, 1, 2, 3, 17, 18, 19}, at::kLong)));
}

TEST(SinkPolicyTest, SinkCountIsAnOption) {
  SinkOptions options;
  options.set_sink_tokens(1);
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("sink", options));
  const at::Tensor kept = testing::KeptPositions(*policy, testing::MakeContext(1, 10, 3));
  EXPECT_TRUE(at::equal(kept[0], at::tensor({0, 8, 9}, at::kLong)));
  options.set_sink_tokens(0);  // Explicit zero: a plain window.
  ASSERT_OK_AND_ASSIGN(auto window, testing::MakePolicy("sink", options));
  EXPECT_TRUE(at::equal(testing::KeptPositions(*window, testing::MakeContext(1, 10, 3))[0],
                        at::tensor({7, 8, 9}, at::kLong)));
}

TEST(SinkPolicyTest, SinksStayAfterManyEvictions) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("sink", SinkOptions()));
  // A cache that already dropped positions 4..99.
  EvictionContext context = testing::MakeContext(1, 8, 7);
  context.positions[0] = at::tensor({0, 1, 2, 3, 100, 101, 102, 103}, at::kLong);
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, context)[0],
                        at::tensor({0, 1, 2, 3, 101, 102, 103}, at::kLong)));
}

TEST(SinkPolicyTest, RejectsNegativeSinks) {
  SinkOptions options;
  options.set_sink_tokens(-1);
  EXPECT_THAT(testing::MakePolicy("sink", options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sink.sink_tokens")));
}

}  // namespace
}  // namespace kvlab::policies
