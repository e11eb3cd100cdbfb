#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/policy_test_util.h"
#include "policies/snapkv.pb.h"

namespace kvlab::policies {
namespace {

using ::testing::HasSubstr;

// Two window queries over 12 tokens; token 3 draws the most attention, token 7 some.
EvictionContext SpikyContext(int64_t budget) {
  EvictionContext context = testing::MakeContext(1, 12, budget);
  at::Tensor rows = at::full({1, 2, 12}, 0.01f);
  rows[0][0][3] = 0.5f;
  rows[0][1][3] = 0.4f;
  rows[0][1][7] = 0.3f;
  context.recent_attention = rows;
  return context;
}

TEST(SnapKvPolicyTest, KeepsWhatTheWindowAttendsToPlusTheWindow) {
  SnapKvOptions options;
  options.set_window(2);
  options.set_kernel_size(1);
  auto policy = *testing::MakePolicy("snapkv", options);
  EXPECT_EQ(policy->Needs().recent_queries, 2);
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, SpikyContext(4))[0],
                        at::tensor({3, 7, 10, 11}, at::kLong)));
}

TEST(SnapKvPolicyTest, PoolingKeepsNeighboursOfAttendedTokens) {
  SnapKvOptions options;
  options.set_window(2);
  options.set_kernel_size(3);
  options.set_pooling(SnapKvOptions::MAX);
  auto policy = *testing::MakePolicy("snapkv", options);
  // Max-pooling spreads token 3's score to 2 and 4, which outrank token 7.
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, SpikyContext(5))[0],
                        at::tensor({2, 3, 4, 10, 11}, at::kLong)));
}

TEST(SnapKvPolicyTest, RejectsEvenKernel) {
  SnapKvOptions options;
  options.set_kernel_size(4);
  EXPECT_THAT(testing::MakePolicy("snapkv", options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("snapkv.kernel_size")));
}

}  // namespace
}  // namespace kvlab::policies
