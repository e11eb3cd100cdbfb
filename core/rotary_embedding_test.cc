#include "core/rotary_embedding.h"

#include <ATen/ATen.h>

#include <cmath>

#include "base/status_matchers.h"
#include "core/reference_attention.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;

at::Tensor Positions(std::vector<int64_t> p) { return at::tensor(p, at::kLong); }

TEST(RotaryEmbeddingTest, InterleavedMatchesDefinition) {
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding rope,
                       RotaryEmbedding::Create(8, 8, 10000.0, RopeStyle::kInterleaved));
  const at::Tensor x = at::randn({3, 4, 8});
  const at::Tensor positions = Positions({0, 1, 17, 4095});
  EXPECT_TRUE(at::allclose(rope.Apply(x, positions),
                           testing::ReferenceRope(x, positions, 10000.0, 8, true), 1e-5, 1e-5));
}

TEST(RotaryEmbeddingTest, HalfMatchesDefinition) {
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding rope,
                       RotaryEmbedding::Create(8, 8, 500.0, RopeStyle::kHalf));
  const at::Tensor x = at::randn({2, 3, 8});
  const at::Tensor positions = Positions({3, 9, 100});
  EXPECT_TRUE(at::allclose(rope.Apply(x, positions),
                           testing::ReferenceRope(x, positions, 500.0, 8, false), 1e-5, 1e-5));
}

TEST(RotaryEmbeddingTest, PartialRotationLeavesTailAlone) {
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding rope,
                       RotaryEmbedding::Create(8, 4, 10000.0, RopeStyle::kInterleaved));
  const at::Tensor x = at::randn({1, 2, 8});
  const at::Tensor out = rope.Apply(x, Positions({5, 6}));
  EXPECT_TRUE(at::equal(out.narrow(-1, 4, 4), x.narrow(-1, 4, 4)));
  EXPECT_TRUE(at::allclose(out.narrow(-1, 0, 4),
                           testing::ReferenceRope(x.narrow(-1, 0, 4).contiguous(),
                                                  Positions({5, 6}), 10000.0, 4, true),
                           1e-5, 1e-5));
}

TEST(RotaryEmbeddingTest, PositionZeroIsIdentityAndRotationsCompose) {
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding rope,
                       RotaryEmbedding::Create(16, 16, 10000.0, RopeStyle::kInterleaved));
  const at::Tensor x = at::randn({2, 1, 16});
  EXPECT_TRUE(at::allclose(rope.Apply(x, Positions({0})), x));
  const at::Tensor twice = rope.Apply(rope.Apply(x, Positions({30})), Positions({12}));
  EXPECT_TRUE(at::allclose(twice, rope.Apply(x, Positions({42})), 1e-5, 1e-5));
  // Norms are preserved, and the dot product depends only on the distance.
  EXPECT_TRUE(at::allclose(rope.Apply(x, Positions({7})).norm(2, -1), x.norm(2, -1), 1e-5, 1e-5));
  const at::Tensor y = at::randn({2, 1, 16});
  const auto dot = [&](int64_t a, int64_t b) {
    return (rope.Apply(x, Positions({a})) * rope.Apply(y, Positions({b}))).sum();
  };
  EXPECT_TRUE(at::allclose(dot(100, 90), dot(10, 0), 1e-4, 1e-4));
}

TEST(RotaryEmbeddingTest, PerHeadPositions) {
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding rope,
                       RotaryEmbedding::Create(4, 4, 100.0, RopeStyle::kInterleaved));
  const at::Tensor x = at::randn({2, 2, 4});
  const at::Tensor per_head = at::tensor({0, 1, 5, 6}, at::kLong).view({2, 2});
  const at::Tensor out = rope.Apply(x, per_head);
  EXPECT_TRUE(at::allclose(out[1].unsqueeze(0), rope.Apply(x[1].unsqueeze(0), Positions({5, 6}))));
}

TEST(RotaryEmbeddingTest, TablePositionsAndComputedPositionsAgree) {
  // A table of 16 positions: 10 is looked up, 1000 is computed.
  ASSERT_OK_AND_ASSIGN(
      const RotaryEmbedding rope,
      RotaryEmbedding::Create(8, 8, 10000.0, RopeStyle::kInterleaved, /*table_positions=*/16));
  const at::Tensor x = at::randn({2, 2, 8});
  const at::Tensor positions = Positions({10, 1000});
  EXPECT_TRUE(at::allclose(rope.Apply(x, positions),
                           testing::ReferenceRope(x, positions, 10000.0, 8, true), 1e-5, 1e-5));
}

TEST(RotaryEmbeddingTest, EachPairTurnsByItsOwnFrequency) {
  // Interleaved pairs (0, 1) and (2, 3) turn by 0.5 and 0.003 radians per position;
  // dims 4 and 5 pass through. Position 1000 is past the table, 7 in it.
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding rope,
                       RotaryEmbedding::WithFrequencies(6, {0.5, 0.003}, RopeStyle::kInterleaved,
                                                        /*table_positions=*/16));
  EXPECT_EQ(rope.rotary_dim(), 4);
  const at::Tensor x = at::randn({1, 2, 6});
  const at::Tensor out = rope.Apply(x, Positions({7, 1000}));
  const int64_t positions[] = {7, 1000};
  for (int t = 0; t < 2; ++t) {
    for (int pair = 0; pair < 2; ++pair) {
      const double angle = positions[t] * (pair == 0 ? 0.5 : 0.003);
      const float a = x[0][t][2 * pair].item<float>(), b = x[0][t][2 * pair + 1].item<float>();
      EXPECT_NEAR(out[0][t][2 * pair].item<float>(), a * std::cos(angle) - b * std::sin(angle),
                  1e-5);
      EXPECT_NEAR(out[0][t][2 * pair + 1].item<float>(),
                  a * std::sin(angle) + b * std::cos(angle), 1e-5);
    }
    EXPECT_TRUE(at::equal(out[0][t].narrow(0, 4, 2), x[0][t].narrow(0, 4, 2)));
  }
  // The same frequencies from Create and from WithFrequencies rotate alike.
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding by_base,
                       RotaryEmbedding::Create(8, 8, 10000.0, RopeStyle::kHalf));
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding by_list,
                       RotaryEmbedding::WithFrequencies(8, {1.0, 0.1, 0.01, 0.001},
                                                        RopeStyle::kHalf));
  const at::Tensor y = at::randn({2, 3, 8});
  EXPECT_TRUE(at::allclose(by_base.Apply(y, Positions({1, 50, 9000})),
                           by_list.Apply(y, Positions({1, 50, 9000})), 1e-5, 1e-5));
}

TEST(RotaryEmbeddingTest, RejectsBadShapes) {
  EXPECT_THAT(RotaryEmbedding::Create(64, 65, 1e4, RopeStyle::kInterleaved),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("even")));
  EXPECT_THAT(RotaryEmbedding::Create(64, 64, 1.0, RopeStyle::kInterleaved),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("base")));
  EXPECT_THAT(RotaryEmbedding::WithFrequencies(4, {1.0, 0.1, 0.01}, RopeStyle::kHalf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("head_dim=4")));
  EXPECT_THAT(RotaryEmbedding::WithFrequencies(4, {1.0, -0.1}, RopeStyle::kHalf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("frequency 1")));
}

}  // namespace
}  // namespace kvlab
