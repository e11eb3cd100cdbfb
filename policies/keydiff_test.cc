#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "gtest/gtest.h"
#include "policies/keydiff.pb.h"
#include "policies/policy_test_util.h"

namespace kvlab::policies {
namespace {

// Four 2-d keys in one head: (1, 0), (2, 0), (0, 1), (-1, 1). Unit keys: (1, 0),
// (1, 0), (0, 1), (-0.7071, 0.7071); anchor = their mean = (0.3232, 0.4268), of norm
// 0.5354. Cosines to it: 0.6037, 0.6037, 0.7972, 0.1368; minus those ranks key 3
// first, then keys 0 and 1 (tied), then key 2.
TEST(KeyDiffPolicyTest, KeepsTheKeysFarthestFromTheMeanDirection) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("keydiff", KeyDiffOptions()));
  EXPECT_TRUE(policy->Needs().keys);
  EvictionContext context = testing::MakeContext(1, 4, 1);
  context.keys = at::tensor({1.0f, 0.0f, 2.0f, 0.0f, 0.0f, 1.0f, -1.0f, 1.0f}).view({1, 4, 2});
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, context)[0], at::tensor({3}, at::kLong)));
  context.budget = 3;
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, context)[0],
                        at::tensor({0, 1, 3}, at::kLong)));
}

// The length of a key does not count, only its direction; each head has its own anchor.
TEST(KeyDiffPolicyTest, ScoresDirectionPerHead) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("keydiff", KeyDiffOptions()));
  EvictionContext context = testing::MakeContext(2, 3, 1);
  // Head 0: two keys along x (one long), one along y: y is the odd one out.
  // Head 1: two along y, one along x (short): x is.
  context.keys = at::tensor({1.0f, 0.0f, 9.0f, 0.0f, 0.0f, 1.0f,  //
                             0.0f, 1.0f, 0.1f, 0.0f, 0.0f, 5.0f})
                     .view({2, 3, 2});
  const at::Tensor kept = testing::KeptPositions(*policy, context);
  EXPECT_EQ(kept[0][0].item<int64_t>(), 2);
  EXPECT_EQ(kept[1][0].item<int64_t>(), 1);
}

}  // namespace
}  // namespace kvlab::policies
