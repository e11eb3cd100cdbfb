#include <ATen/ATen.h>

#include <cmath>

#include "base/status_matchers.h"
#include "core/rotary_embedding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/expected_attention.pb.h"
#include "policies/policy_test_util.h"

namespace kvlab::policies {
namespace {

using ::testing::HasSubstr;

// One KV head, one query head, head_dim 2 (one rotary pair turning by 1 radian per
// position, counter-clockwise). The step held positions 2 and 3 of a sequence
// starting at 0, so the next position is 4; with future_positions 1 the averaged
// rotation is R(4). Queries are written as R(-4) u, so that the rotated mean is the
// mean of the u's.
class ExpectedAttentionPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(rope_, RotaryEmbedding::Create(2, 2, 10000.0, RopeStyle::kHalf));
  }

  // Keys (3, 0), (0, 3), (-3, 0), (1, 0); values of norm 1 but token 1's (norm 100).
  EvictionContext Context(const at::Tensor& u) {
    EvictionContext context = testing::MakeContext(1, 4, 2);
    context.step = 4;
    context.first_position = 0;
    const double c = std::cos(-4.0), s = std::sin(-4.0);
    const at::Tensor back = at::tensor({c, s, -s, c}, at::kFloat).view({2, 2});  // R(-4)^T
    context.queries = at::matmul(u, back).unsqueeze(0);                        // [1, 2, 2]
    context.keys = at::tensor({3.0f, 0.0f, 0.0f, 3.0f, -3.0f, 0.0f, 1.0f, 0.0f}).view({1, 4, 2});
    context.values =
        at::tensor({1.0f, 0.0f, 100.0f, 0.0f, 0.0f, 1.0f, 1.0f, 0.0f}).view({1, 4, 2});
    context.rope = &*rope_;
    return context;
  }

  static ExpectedAttentionOptions Options(bool covariance, bool value_norm) {
    ExpectedAttentionOptions options;
    options.set_sink_tokens(0);
    options.set_future_positions(1);
    options.set_use_covariance(covariance);
    options.set_use_value_norm(value_norm);
    return options;
  }

  absl::StatusOr<RotaryEmbedding> rope_ = absl::UnknownError("unset");
};

// u = (1, 0) twice: mean' (1, 0), no covariance. Logits k_x / sqrt(2): 2.121, 0,
// -2.121, 0.707; softmax 0.726, 0.087, 0.010, 0.177. Alone the softmax keeps 0 and 3;
// times the value norms (1, 100, 1, 1) it keeps 0 and 1. Had the queries been rotated
// the wrong way, the mean would be R(8) (1, 0) = (-0.146, 0.989), which keeps 1 and 2.
TEST_F(ExpectedAttentionPolicyTest, RotatedMeanQueryAndValueNorms) {
  const at::Tensor u = at::tensor({1.0f, 0.0f, 1.0f, 0.0f}).view({2, 2});
  ASSERT_OK_AND_ASSIGN(auto plain, testing::MakePolicy("expected_attention", Options(false, false)));
  EXPECT_TRUE(plain->Needs().queries);
  EXPECT_TRUE(at::equal(testing::KeptPositions(*plain, Context(u))[0],
                        at::tensor({0, 3}, at::kLong)));
  ASSERT_OK_AND_ASSIGN(auto vnorm, testing::MakePolicy("expected_attention", Options(false, true)));
  EXPECT_TRUE(at::equal(testing::KeptPositions(*vnorm, Context(u))[0],
                        at::tensor({0, 1}, at::kLong)));
}

// u = (1, 1) and (1, -1): mean (1, 0), covariance diag(0, 1) (divided by 2), and
// R S R^T = diag(0, 1) again. Logits k_x / sqrt(2) + k_y^2 / (2 * 2): 2.121, 2.25,
// -2.121, 0.707: the covariance term lifts token 1 above token 0.
TEST_F(ExpectedAttentionPolicyTest, CovarianceTerm) {
  const at::Tensor u = at::tensor({1.0f, 1.0f, 1.0f, -1.0f}).view({2, 2});
  ASSERT_OK_AND_ASSIGN(auto mean_only,
                       testing::MakePolicy("expected_attention", Options(false, false)));
  EXPECT_TRUE(at::equal(testing::KeptPositions(*mean_only, Context(u))[0],
                        at::tensor({0, 3}, at::kLong)));
  ASSERT_OK_AND_ASSIGN(auto with_covariance,
                       testing::MakePolicy("expected_attention", Options(true, false)));
  EvictionContext context = Context(u);
  context.budget = 1;
  EXPECT_TRUE(at::equal(testing::KeptPositions(*with_covariance, context)[0],
                        at::tensor({1}, at::kLong)));
  context.budget = 2;
  EXPECT_TRUE(at::equal(testing::KeptPositions(*with_covariance, context)[0],
                        at::tensor({0, 1}, at::kLong)));
}

// A sink is kept whatever its score: token 2 (the lowest) with sink_tokens 3 and a
// budget of 3 keeps 0, 1, 2 over 3.
TEST_F(ExpectedAttentionPolicyTest, SinksAreKept) {
  const at::Tensor u = at::tensor({1.0f, 0.0f, 1.0f, 0.0f}).view({2, 2});
  ExpectedAttentionOptions options = Options(false, false);
  options.set_sink_tokens(3);
  ASSERT_OK_AND_ASSIGN(auto policy, testing::MakePolicy("expected_attention", options));
  EvictionContext context = Context(u);
  context.budget = 3;
  EXPECT_TRUE(at::equal(testing::KeptPositions(*policy, context)[0],
                        at::tensor({0, 1, 2}, at::kLong)));
}

TEST(ExpectedAttentionOptionsTest, ErrorsNameTheField) {
  ExpectedAttentionOptions options;
  options.set_future_positions(0);
  EXPECT_THAT(testing::MakePolicy("expected_attention", options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected_attention.future_positions")));
  options = ExpectedAttentionOptions();
  options.set_sink_tokens(-1);
  EXPECT_THAT(testing::MakePolicy("expected_attention", options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected_attention.sink_tokens")));
}

}  // namespace
}  // namespace kvlab::policies
