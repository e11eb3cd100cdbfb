#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "gtest/gtest.h"
#include "policies/policy_test_util.h"
#include "policies/random.pb.h"

namespace kvlab::policies {
namespace {

TEST(RandomPolicyTest, SameSeedSameChoiceDifferentSeedDifferentChoice) {
  RandomOptions options;
  options.set_seed(7);
  ASSERT_OK_AND_ASSIGN(auto a, testing::MakePolicy("random", options));
  ASSERT_OK_AND_ASSIGN(auto b, testing::MakePolicy("random", options));
  options.set_seed(8);
  ASSERT_OK_AND_ASSIGN(auto c, testing::MakePolicy("random", options));
  const EvictionContext context = testing::MakeContext(2, 100, 10);
  const at::Tensor kept_a = testing::KeptPositions(*a, context);
  EXPECT_TRUE(at::equal(kept_a, testing::KeptPositions(*b, context)));
  EXPECT_FALSE(at::equal(kept_a, testing::KeptPositions(*c, context)));
  // Distinct tokens, and the choice spreads over the whole sequence.
  EXPECT_EQ(std::get<0>(at::_unique(kept_a[0])).numel(), 10);
  EXPECT_LT(kept_a.min().item<int64_t>(), 50);
  EXPECT_GE(kept_a.max().item<int64_t>(), 50);
}

TEST(RandomPolicyTest, EachSequenceDrawsItsOwnReproducibly) {
  RandomOptions options;
  options.set_seed(7);
  EvictionContext first = testing::MakeContext(2, 100, 10);
  EvictionContext second = first;
  second.sequence = 1;
  ASSERT_OK_AND_ASSIGN(auto policy_a, testing::MakePolicy("random", options));
  ASSERT_OK_AND_ASSIGN(auto policy_b, testing::MakePolicy("random", options));
  ASSERT_OK_AND_ASSIGN(auto policy_c, testing::MakePolicy("random", options));
  const at::Tensor kept_first = testing::KeptPositions(*policy_a, first);
  const at::Tensor kept_second = testing::KeptPositions(*policy_b, second);
  EXPECT_FALSE(at::equal(kept_first, kept_second));
  EXPECT_TRUE(at::equal(kept_second, testing::KeptPositions(*policy_c, second)));
}

TEST(RandomPolicyTest, RespectsProtectedTokens) {
  RandomOptions options;
  options.set_sink_tokens(2);
  options.set_recent_tokens(2);
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("random", options));
  const at::Tensor kept = testing::KeptPositions(*policy, testing::MakeContext(1, 50, 5));
  EXPECT_EQ(kept[0][0].item<int64_t>(), 0);
  EXPECT_EQ(kept[0][1].item<int64_t>(), 1);
  EXPECT_EQ(kept[0][3].item<int64_t>(), 48);
  EXPECT_EQ(kept[0][4].item<int64_t>(), 49);
}

}  // namespace
}  // namespace kvlab::policies
