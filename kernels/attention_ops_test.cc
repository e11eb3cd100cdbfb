#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/attention_scores.h"
#include "kernels/integer_format.h"
#include "kernels/kernel_test_util.h"
#include "kernels/weighted_values.h"

namespace kvlab::kernels {
namespace {

constexpr int64_t kHeads = 3, kDim = 64;

// Stored tokens in both layouts, and their dequantized reference values.
struct Stored {
  TokenGroupsView token_groups;
  ChannelBlocksView channel_blocks;
  at::Tensor reference_tokens;  // [heads, t, dim] as TokenGroupsView reads back
  at::Tensor reference_blocks;  // [heads, t, dim] as ChannelBlocksView reads back
};

Stored MakeStored(const IntegerFormat& format, int64_t tokens, int64_t group) {
  const at::Tensor x = at::randn({kHeads, tokens, kDim}) * 2.0 + 0.5;
  Stored s;
  // Per-token groups, with the ATen reference quantizer.
  QuantizedGroups q =
      ValueOrAddFailure(QuantizeGroups(format, x.unflatten(-1, {kDim / group, group})));
  s.reference_tokens =
      DequantizeLevels(format, q.levels, q.scale, q.zero).flatten(-2);
  s.token_groups = {format, kDim, group,
                    testing::InsideLargerBuffer(PackLevels(format, q.levels.flatten(-2))),
                    testing::InsideLargerBuffer(q.scale.squeeze(-1)),
                    format.symmetric ? at::Tensor() : testing::InsideLargerBuffer(q.zero.squeeze(-1))};
  // Per-channel blocks of 16 tokens, visited in a shuffled block order as after
  // eviction and renumbering.
  const int64_t blocks = (tokens + 15) / 16;
  std::vector<at::Tensor> levels, scales, zeros, references;
  for (int64_t b = 0; b < blocks; ++b) {
    const at::Tensor block = x.narrow(1, b * 16, std::min<int64_t>(16, tokens - b * 16));
    QuantizedGroups qb = ValueOrAddFailure(QuantizeGroups(format, block.transpose(1, 2)));
    levels.push_back(qb.levels.transpose(1, 2));
    scales.push_back(qb.scale.transpose(1, 2));
    if (!format.symmetric) zeros.push_back(qb.zero.transpose(1, 2));
    references.push_back(
        DequantizeLevels(format, qb.levels, qb.scale, qb.zero).transpose(1, 2));
  }
  const at::Tensor order = at::randperm(blocks, at::kLong);  // storage slot of block b
  at::Tensor scale_table = at::cat(scales, 1).index_select(1, at::argsort(order));
  at::Tensor block_of = order.repeat_interleave(16).narrow(0, 0, tokens).repeat({kHeads, 1});
  s.channel_blocks = {format, kDim,
                      testing::InsideLargerBuffer(PackLevels(format, at::cat(levels, 1).contiguous())),
                      testing::InsideLargerBuffer(block_of),
                      testing::InsideLargerBuffer(scale_table),
                      format.symmetric ? at::Tensor()
                                  : testing::InsideLargerBuffer(
                                        at::cat(zeros, 1).index_select(1, at::argsort(order)))};
  s.reference_blocks = at::cat(references, 1);
  return s;
}

class AttentionOpsTest : public ::testing::TestWithParam<IntegerFormat> {};

TEST_P(AttentionOpsTest, ScoresAndValuesMatchTheDequantizedReference) {
  testing::FreshSeed();
  for (int64_t tokens : {1, 17, 300}) {
    for (int64_t group : {32, 64}) {
      const Stored s = MakeStored(GetParam(), tokens, group);
      for (int64_t m : {1, 3, 11}) {
        const at::Tensor q = at::randn({kHeads, m, kDim});
        const at::Tensor w = at::softmax(at::randn({kHeads, m, tokens}), -1);
        const std::string where = absl::StrFormat("tokens %d group %d m %d", tokens, group, m);
        // fp32 accumulation in another order: 1e-5 relative is ample.
        ASSERT_OK_AND_ASSIGN(const QuantizedRows token_rows, Describe(s.token_groups));
        ASSERT_OK_AND_ASSIGN(const QuantizedRows block_rows, Describe(s.channel_blocks));
        at::Tensor scores = testing::Poisoned({kHeads, m, tokens});
        ASSERT_THAT(AttentionScoresInto(scores, q, token_rows), IsOk());
        EXPECT_LT(testing::RelativeError(scores, at::matmul(q, s.reference_tokens.transpose(1, 2))), 1e-5) << where;
        at::Tensor out = testing::Poisoned({kHeads, m, kDim});
        ASSERT_THAT(WeightedValuesInto(out, w, token_rows), IsOk());
        EXPECT_LT(testing::RelativeError(out, at::matmul(w, s.reference_tokens)), 1e-5) << where;
        // Per-channel blocks.
        scores = testing::Poisoned({kHeads, m, tokens});
        ASSERT_THAT(AttentionScoresInto(scores, q, block_rows), IsOk());
        EXPECT_LT(testing::RelativeError(scores, at::matmul(q, s.reference_blocks.transpose(1, 2))), 1e-5) << where;
        out = testing::Poisoned({kHeads, m, kDim});
        ASSERT_THAT(WeightedValuesInto(out, w, block_rows), IsOk());
        EXPECT_LT(testing::RelativeError(out, at::matmul(w, s.reference_blocks)), 1e-5) << where;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, AttentionOpsTest,
    ::testing::Values(IntegerFormat{8, false, at::kFloat}, IntegerFormat{8, true, at::kHalf},
                      IntegerFormat{4, false, at::kFloat}, IntegerFormat{4, false, at::kBFloat16},
                      IntegerFormat{4, true, at::kHalf}, IntegerFormat{2, false, at::kHalf},
                      // q4_0's scales may be negative.
                      testing::GgmlQ4(true)),
    testing::FormatTestName);

TEST(AttentionOpsDenseTest, DenseRowsMatchMatmul) {
  testing::FreshSeed();
  for (int64_t tokens : {1, 300}) {
    const at::Tensor k = testing::InsideLargerBuffer(at::randn({kHeads, tokens, kDim}));
    const at::Tensor q = at::randn({kHeads, 3, kDim});
    const at::Tensor w = at::softmax(at::randn({kHeads, 3, tokens}), -1);
    ASSERT_OK_AND_ASSIGN(const QuantizedRows rows, Describe(DenseRowsView{k}));
    at::Tensor scores = testing::Poisoned({kHeads, 3, tokens});
    ASSERT_THAT(AttentionScoresInto(scores, q, rows), IsOk());
    EXPECT_LT(testing::RelativeError(scores, at::matmul(q, k.transpose(1, 2))), 1e-5);
    at::Tensor out = testing::Poisoned({kHeads, 3, kDim});
    ASSERT_THAT(WeightedValuesInto(out, w, rows), IsOk());
    EXPECT_LT(testing::RelativeError(out, at::matmul(w, k)), 1e-5);
  }
}

TEST(AttentionOpsErrorsTest, ShapeMismatchesAreErrors) {
  const Stored s = MakeStored({4, false, at::kFloat}, 8, 32);
  EXPECT_THAT(AttentionScores(at::randn({kHeads, 1, 32}), s.token_groups),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("queries")));
  EXPECT_THAT(WeightedValues(at::randn({kHeads, 1, 9}), s.token_groups),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("weights")));
  TokenGroupsView bad = s.token_groups;
  bad.group = 48;
  EXPECT_THAT(AttentionScores(at::randn({kHeads, 1, kDim}), bad),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("divide")));
}

}  // namespace
}  // namespace kvlab::kernels
