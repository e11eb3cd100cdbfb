#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "gtest/gtest.h"
#include "policies/policy_test_util.h"
#include "policies/window.pb.h"

namespace kvlab::policies {
namespace {

TEST(WindowPolicyTest, KeepsTheMostRecentTokens) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("window", WindowOptions()));
  EXPECT_EQ(policy->Name(), "window");
  EvictionContext context = testing::MakeContext(2, 10, 4);
  context.positions[1] = at::tensor({0, 2, 3, 5, 8, 9, 12, 13, 20, 21}, at::kLong);
  const at::Tensor kept = testing::KeptPositions(*policy, context);
  EXPECT_TRUE(at::equal(kept[0], at::tensor({6, 7, 8, 9}, at::kLong)));
  EXPECT_TRUE(at::equal(kept[1], at::tensor({12, 13, 20, 21}, at::kLong)));
}

}  // namespace
}  // namespace kvlab::policies
