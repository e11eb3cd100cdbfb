#include "kernels/decode_attention.h"

#include <ATen/ATen.h>

#include <cmath>

#include "absl/strings/str_format.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/decode_test_cache.h"
#include "kernels/kernel_test_util.h"

namespace kvlab::kernels {
namespace {

using testing::CacheKind;

constexpr int64_t kHeads = 3, kDim = 64;

class DecodeAttentionTest : public ::testing::TestWithParam<CacheKind> {};

TEST_P(DecodeAttentionTest, MatchesSoftmaxAttentionOverTheDequantizedCache) {
  testing::FreshSeed();
  const double scale = 1.0 / std::sqrt(static_cast<double>(kDim));
  for (int64_t tokens : {1, 40, 300}) {
    for (int64_t residual : {0, 5}) {
      for (int64_t group : {1, 3}) {
        const testing::TestCache cache =
            testing::MakeTestCache(GetParam(), kHeads, tokens, kDim, 32, residual, at::kCPU);
        const at::Tensor q = at::randn({kHeads, group, kDim});
        const testing::ReferenceAttention want = testing::Reference(q, cache, scale);
        at::Tensor out = testing::Poisoned({kHeads, group, kDim});
        // Statistics add to what is there.
        at::Tensor sums = at::ones({kHeads, tokens + residual});
        ASSERT_THAT(DecodeAttention(q, cache.segments, scale, out, sums), IsOk());
        const std::string where =
            absl::StrFormat("tokens %d residual %d group %d", tokens, residual, group);
        EXPECT_LT(testing::RelativeError(out, want.out), 1e-5) << where;
        EXPECT_LT(testing::RelativeError(sums - 1, want.column_sums), 1e-5) << where;
        // On the CPU the fused kernels never take the step; DecodeAttention composes.
        EXPECT_THAT(FusedDecodeStep::Prepare(q, cache.segments).status(),
                    StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("CUDA")));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, DecodeAttentionTest,
                         ::testing::Values(CacheKind::kInt8Tokens, CacheKind::kInt4Tokens,
                                           CacheKind::kInt4SymTokens,
                                           CacheKind::kInt4ChannelKeys, CacheKind::kFloat32,
                                           CacheKind::kFloat16, CacheKind::kBFloat16),
                         [](const auto& info) {
                           std::string name = testing::KindName(info.param);
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(DecodeAttentionErrorsTest, BadShapesAreErrors) {
  const testing::TestCache cache =
      testing::MakeTestCache(CacheKind::kInt4Tokens, kHeads, 8, kDim, 32, 0, at::kCPU);
  const at::Tensor q = at::randn({kHeads, 2, kDim});
  at::Tensor wrong_out = at::empty({kHeads, 1, kDim});
  EXPECT_THAT(DecodeAttention(q, cache.segments, 1.0, wrong_out),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("output")));
  at::Tensor out = at::empty({kHeads, 2, kDim});
  at::Tensor short_sums = at::zeros({kHeads, 7});
  EXPECT_THAT(DecodeAttention(q, cache.segments, 1.0, out, short_sums),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("column sums")));
  DecodeSegment uneven = cache.segments[0];
  uneven.values = DenseRowsView{at::zeros({kHeads, 9, kDim})};
  EXPECT_THAT(DecodeAttention(q, {uneven}, 1.0, out),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("8 keys but 9")));
}

TEST(DecodeAttentionErrorsTest, NoTokensGivesZeros) {
  const at::Tensor q = at::randn({kHeads, 1, kDim});
  at::Tensor out = testing::Poisoned({kHeads, 1, kDim});
  const DecodeSegment empty{DenseRowsView{at::zeros({kHeads, 0, kDim})},
                            DenseRowsView{at::zeros({kHeads, 0, kDim})}};
  ASSERT_THAT(DecodeAttention(q, {empty}, 1.0, out), IsOk());
  EXPECT_TRUE(out.eq(0).all().item<bool>());
}

// Keys held as runs of 3 and 4 tokens, values as 5 and 2: segments cut at 3 and 5.
TEST(PairRunsTest, CutsWhereEitherSideEnds) {
  const at::Tensor keys = at::arange(7 * 2, at::kFloat).view({1, 7, 2});
  const at::Tensor values = -keys;
  const std::vector<CacheRowsView> key_runs = {DenseRowsView{keys.narrow(1, 0, 3)},
                                               DenseRowsView{keys.narrow(1, 3, 4)}};
  const std::vector<CacheRowsView> value_runs = {DenseRowsView{values.narrow(1, 0, 5)},
                                                 DenseRowsView{values.narrow(1, 5, 0)},
                                                 DenseRowsView{values.narrow(1, 5, 2)}};
  auto segments = PairRuns(key_runs, value_runs);
  ASSERT_THAT(segments, IsOk());
  ASSERT_EQ(segments->size(), 3u);
  const int64_t want_first[] = {0, 3, 5}, want_count[] = {3, 2, 2};
  for (size_t i = 0; i < 3; ++i) {
    const at::Tensor k = std::get<DenseRowsView>((*segments)[i].keys).rows;
    const at::Tensor v = std::get<DenseRowsView>((*segments)[i].values).rows;
    EXPECT_TRUE(at::equal(k, keys.narrow(1, want_first[i], want_count[i]))) << i;
    EXPECT_TRUE(at::equal(v, values.narrow(1, want_first[i], want_count[i]))) << i;
  }
}

TEST(PairRunsTest, RefusesDifferentTotals) {
  const at::Tensor rows = at::zeros({1, 4, 2});
  EXPECT_THAT(PairRuns({DenseRowsView{rows}}, {DenseRowsView{rows.narrow(1, 0, 3)}}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("4 tokens")));
}

}  // namespace
}  // namespace kvlab::kernels
