#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/knorm.pb.h"
#include "policies/policy_test_util.h"

namespace kvlab::policies {
namespace {

TEST(KnormPolicyTest, KeepsTheLowestNormKeys) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("knorm", KnormOptions()));
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
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("knorm", options));
  EvictionContext context = testing::MakeContext(1, 6, 3);
  context.key_norms = at::tensor({5.0f, 1.0f, 9.0f, 2.0f, 8.0f, 7.0f}).unsqueeze(0);
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, context)[0],
                        at::tensor({0, 1, 5}, at::kLong)));
}

TEST(KnormPolicyTest, LeavesLayerZeroUncompressedByDefault) {
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("knorm", KnormOptions()));
  EXPECT_FALSE(policy->CompressesLayer(0));
  EXPECT_TRUE(policy->CompressesLayer(1));
  EXPECT_TRUE(policy->CompressesLayer(29));
}

TEST(KnormPolicyTest, UncompressedLayersAreAnOption) {
  KnormOptions options;
  options.mutable_uncompressed_layers()->add_layers(0);
  options.mutable_uncompressed_layers()->add_layers(1);
  ASSERT_OK_AND_ASSIGN(auto two, testing::MakePolicy("knorm", options));
  EXPECT_FALSE(two->CompressesLayer(0));
  EXPECT_FALSE(two->CompressesLayer(1));
  EXPECT_TRUE(two->CompressesLayer(2));
  options.mutable_uncompressed_layers()->clear_layers();  // Set but empty: every layer.
  ASSERT_OK_AND_ASSIGN(auto none, testing::MakePolicy("knorm", options));
  EXPECT_TRUE(none->CompressesLayer(0));
}

TEST(KnormPolicyTest, RejectsANegativeLayer) {
  KnormOptions options;
  options.mutable_uncompressed_layers()->add_layers(-1);
  EXPECT_THAT(testing::MakePolicy("knorm", options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("knorm.uncompressed_layers")));
}

}  // namespace
}  // namespace kvlab::policies
