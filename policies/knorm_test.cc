#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "gtest/gtest.h"
#include "policies/knorm.pb.h"
#include "policies/policy_test_util.h"

namespace kvlab::policies {
namespace {

TEST(KnormPolicyTest, KeepsTheLowestNormKeys) {
  auto policy = *testing::MakePolicy("knorm", KnormOptions());
  EXPECT_TRUE(policy->Needs().key_norms);
  EvictionContext context = testing::MakeContext(1, 6, 3);
  context.key_norms = at::tensor({5.0f, 1.0f, 9.0f, 2.0f, 8.0f, 0.5f}).unsqueeze(0);
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, context)[0],
                        at::tensor({1, 3, 5}, at::kLong)));
}

TEST(KnormPolicyTest, ProtectedTokensOutrankNorms) {
  KnormOptions options;
  options.set_sink_tokens(1);
  options.set_recent_tokens(1);
  auto policy = *testing::MakePolicy("knorm", options);
  EvictionContext context = testing::MakeContext(1, 6, 3);
  context.key_norms = at::tensor({5.0f, 1.0f, 9.0f, 2.0f, 8.0f, 7.0f}).unsqueeze(0);
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, context)[0],
                        at::tensor({0, 1, 5}, at::kLong)));
}

}  // namespace
}  // namespace kvlab::policies
