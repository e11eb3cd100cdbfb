#include <ATen/ATen.h>

#include <limits>
#include <variant>
#include <vector>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/integer_format.h"
#include "quant/per_channel_store.h"
#include "quant/per_token_store.h"

namespace kvlab::quant {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kHeads = 2, kDim = 64;

StoreSpec Spec(int64_t residual) { return StoreSpec{kHeads, kDim, residual, at::kCPU}; }

// Appends `x` [heads, n, d] one token at a time.
void AppendOneByOne(TensorStore& store, const at::Tensor& x) {
  for (int64_t t = 0; t < x.size(1); ++t) {
    ASSERT_THAT(store.Append(x.narrow(1, t, 1).contiguous()), IsOk());
  }
}

TEST(PerTokenStoreTest, WithoutResidualEveryTokenIsQuantizedOnArrival) {
  ASSERT_OK_AND_ASSIGN(auto store,
                       PerTokenQuantizedStore::Create({4, false, at::kFloat}, 32, Spec(0)));
  const at::Tensor x = at::randn({kHeads, 10, kDim});
  AppendOneByOne(*store, x);
  EXPECT_EQ(store->residual_length(), 0);
  EXPECT_EQ(store->quantized_length(), 10);
  const at::Tensor back = store->Materialize();
  EXPECT_FALSE(at::equal(back, x));  // Nothing full-precision survives.
  // Asymmetric int4 over a group of 32 normal values: error within half a step.
  const at::Tensor range = x.unflatten(-1, {2, 32}).amax(-1) - x.unflatten(-1, {2, 32}).amin(-1);
  const at::Tensor half_step = (range / 15.0 / 2.0).repeat_interleave(32, -1);
  EXPECT_TRUE(((back - x).abs() <= half_step + 1e-5).all().item<bool>());
  // Bytes by hand: per token and head 32 level bytes + 2 fp32 scales + 2 fp32 zeros.
  EXPECT_EQ(store->held_bytes(), 10 * kHeads * (32 + 2 * 4 + 2 * 4));
}

TEST(PerTokenStoreTest, ResidualKeepsTheLatestTokensExact) {
  ASSERT_OK_AND_ASSIGN(auto store,
                       PerTokenQuantizedStore::Create({8, true, at::kFloat}, 64, Spec(3)));
  const at::Tensor x = at::randn({kHeads, 9, kDim});
  AppendOneByOne(*store, x);
  EXPECT_EQ(store->residual_length(), 3);
  EXPECT_EQ(store->quantized_length(), 6);
  const at::Tensor back = store->Materialize();
  EXPECT_TRUE(at::equal(back.narrow(1, 6, 3), x.narrow(1, 6, 3)));
  EXPECT_TRUE(at::allclose(back.narrow(1, 0, 6), x.narrow(1, 0, 6), 0, 0.05));
  // Symmetric int8, one group: 64 levels + 1 scale per token; residual fp32.
  EXPECT_EQ(store->held_bytes(), kHeads * (6 * (64 + 4) + 3 * 64 * 4));
}

TEST(PerTokenStoreTest, ProductsUseWhatIsHeld) {
  ASSERT_OK_AND_ASSIGN(auto store,
                       PerTokenQuantizedStore::Create({4, true, at::kBFloat16}, 32, Spec(2)));
  AppendOneByOne(*store, at::randn({kHeads, 7, kDim}));
  const at::Tensor held = store->Materialize();
  const at::Tensor q = at::randn({kHeads, 3, kDim});
  const absl::StatusOr<at::Tensor> scores = store->MultiplyTransposed(q);
  ASSERT_THAT(scores, IsOk());
  EXPECT_TRUE(at::allclose(*scores, at::matmul(q, held.transpose(1, 2)), 1e-4, 1e-4));
  const at::Tensor w = at::rand({kHeads, 3, 7});
  const absl::StatusOr<at::Tensor> out = store->Multiply(w);
  ASSERT_THAT(out, IsOk());
  EXPECT_TRUE(at::allclose(*out, at::matmul(w, held), 1e-4, 1e-4));
  // Over a range of the held tokens, the same products cut to it.
  ASSERT_OK_AND_ASSIGN(const at::Tensor middle, store->MultiplyTransposedRange(q, 2, 5));
  EXPECT_TRUE(at::equal(middle, scores->narrow(2, 2, 3)));
  const at::Tensor w_middle = at::rand({kHeads, 3, 3});
  ASSERT_OK_AND_ASSIGN(const at::Tensor out_middle, store->MultiplyRange(w_middle, 2, 5));
  EXPECT_TRUE(at::allclose(out_middle, at::matmul(w_middle, held.narrow(1, 2, 3)), 1e-4, 1e-4));
  // Queries of the wrong width reach the fused kernel, whose InvalidArgument comes back.
  EXPECT_THAT(store->MultiplyTransposed(at::randn({kHeads, 1, kDim / 2})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("queries")));
}

TEST(PerTokenStoreTest, RetainBalancesResidualAcrossHeads) {
  ASSERT_OK_AND_ASSIGN(auto store,
                       PerTokenQuantizedStore::Create({8, false, at::kFloat}, 32, Spec(4)));
  const at::Tensor x = at::randn({kHeads, 10, kDim});
  AppendOneByOne(*store, x);  // 6 quantized, 4 residual.
  const at::Tensor before = store->Materialize();
  // Head 0 keeps 1 residual token (9), head 1 keeps 3 (7, 8, 9).
  const at::Tensor keep = at::tensor({0, 2, 4, 5, 9, 1, 3, 7, 8, 9}, at::kLong).view({2, 5});
  ASSERT_THAT(store->Retain(keep), IsOk());
  EXPECT_EQ(store->length(), 5);
  EXPECT_EQ(store->residual_length(), 1);
  const at::Tensor after = store->Materialize();
  const at::Tensor expected = before.gather(1, keep.unsqueeze(-1).expand({2, 5, kDim}));
  // Quantized tokens and the residual read back unchanged; head 1's tokens 7 and 8
  // were quantized early, so they carry quantization error now.
  EXPECT_TRUE(at::equal(after[0], expected[0]));
  EXPECT_TRUE(at::equal(after[1].narrow(0, 0, 2), expected[1].narrow(0, 0, 2)));
  EXPECT_TRUE(at::equal(after[1][4], expected[1][4]));
  EXPECT_FALSE(at::equal(after[1].narrow(0, 2, 2), expected[1].narrow(0, 2, 2)));
  EXPECT_TRUE(at::allclose(after[1].narrow(0, 2, 2), expected[1].narrow(0, 2, 2), 0, 0.05));
  // Per quantized token: 64 levels, two groups' fp32 scale and zero.
  EXPECT_EQ(store->held_bytes(), kHeads * (4 * (64 + 2 * 4 + 2 * 4) + 1 * 64 * 4));
}

TEST(PerChannelStoreTest, QuantizesWholeBlocksPerChannel) {
  ASSERT_OK_AND_ASSIGN(auto store,
                       PerChannelQuantizedStore::Create({4, false, at::kFloat}, 8, Spec(0)));
  // Channel c has values around c: per-channel scales fit each channel's range.
  const at::Tensor x = at::randn({kHeads, 20, kDim}) * 0.1 + at::arange(kDim, at::kFloat);
  AppendOneByOne(*store, x);
  EXPECT_EQ(store->quantized_length(), 16);
  EXPECT_EQ(store->residual_length(), 4);  // Waiting for their block to fill.
  EXPECT_EQ(store->blocks(), 2);
  const at::Tensor back = store->Materialize();
  EXPECT_TRUE(at::equal(back.narrow(1, 16, 4), x.narrow(1, 16, 4)));
  const at::Tensor blocks = x.narrow(1, 0, 16).unflatten(1, {2, 8});
  const at::Tensor step = ((blocks.amax(2) - blocks.amin(2)) / 15.0).repeat_interleave(8, 1);
  EXPECT_TRUE(((back.narrow(1, 0, 16) - x.narrow(1, 0, 16)).abs() <= step / 2 + 1e-5)
                  .all().item<bool>());
  // Bytes by hand: 16 tokens x 32 level bytes, 2 blocks x 64 channels x (scale + zero)
  // fp32, 4 residual tokens fp32; per head.
  EXPECT_EQ(store->held_bytes(), kHeads * (16 * 32 + 2 * 64 * 8 + 4 * 64 * 4));
  EXPECT_EQ(store->metadata_bytes(), kHeads * 16 * 8);
}

TEST(PerChannelStoreTest, ResidualStaysBetweenRAndRPlusBlock) {
  ASSERT_OK_AND_ASSIGN(auto store,
                       PerChannelQuantizedStore::Create({4, true, at::kHalf}, 4, Spec(6)));
  for (int64_t t = 1; t <= 30; ++t) {
    ASSERT_THAT(store->Append(at::randn({kHeads, 1, kDim})), IsOk());
    if (t >= 6) {
      EXPECT_GE(store->residual_length(), 6);
      EXPECT_LE(store->residual_length(), 9);
    }
  }
  EXPECT_EQ(store->length(), 30);
}

// KIVI's keys: R = 8, blocks of 4. The residual fills to 8, then all 8 leave as two
// blocks: after t one-token appends it holds t mod 8.
TEST(PerChannelStoreTest, KiviFlushQuantizesTheWholeResidualOnceRWait) {
  using Flush = PerChannelQuantizedStore::ResidualFlush;
  ASSERT_OK_AND_ASSIGN(auto store, PerChannelQuantizedStore::Create({4, false, at::kFloat}, 4,
                                                                    Spec(8), Flush::kKivi));
  const at::Tensor x = at::randn({kHeads, 20, kDim});
  for (int64_t t = 1; t <= 20; ++t) {
    ASSERT_THAT(store->Append(x.narrow(1, t - 1, 1).contiguous()), IsOk());
    EXPECT_EQ(store->residual_length(), t % 8) << t;
    EXPECT_EQ(store->quantized_length(), t / 8 * 8) << t;
  }
  EXPECT_EQ(store->blocks(), 4);
  // The residual is exact.
  EXPECT_TRUE(at::equal(store->Materialize().narrow(1, 16, 4), x.narrow(1, 16, 4)));
  EXPECT_THAT(store->Describe(), HasSubstr("kivi-flush"));
}

// A 21-token prefill keeps its last 21 mod 8 = 5 in full precision and quantizes 16
// as 4 blocks. Bytes per head: 16 tokens x 32 level bytes, 4 blocks x 64 channels x
// fp32 scale and zero, 5 fp32 residual tokens.
TEST(PerChannelStoreTest, KiviFlushOfALongAppendKeepsLengthModR) {
  using Flush = PerChannelQuantizedStore::ResidualFlush;
  ASSERT_OK_AND_ASSIGN(auto store, PerChannelQuantizedStore::Create({4, false, at::kFloat}, 4,
                                                                    Spec(8), Flush::kKivi));
  ASSERT_THAT(store->Append(at::randn({kHeads, 21, kDim})), IsOk());
  EXPECT_EQ(store->residual_length(), 5);
  EXPECT_EQ(store->blocks(), 4);
  EXPECT_EQ(store->held_bytes(), kHeads * (16 * 32 + 4 * 64 * 8 + 5 * 64 * 4));
}

TEST(PerChannelStoreTest, KiviFlushNeedsAMultipleOfTheBlock) {
  using Flush = PerChannelQuantizedStore::ResidualFlush;
  for (const int64_t residual : {0, 6}) {
    EXPECT_THAT(PerChannelQuantizedStore::Create({4, false, at::kFloat}, 4, Spec(residual),
                                                 Flush::kKivi),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("residual_tokens")));
  }
}

TEST(PerChannelStoreTest, EvictionFreesEmptyBlocks) {
  ASSERT_OK_AND_ASSIGN(auto store,
                       PerChannelQuantizedStore::Create({8, false, at::kFloat}, 4, Spec(0)));
  AppendOneByOne(*store, at::randn({kHeads, 12, kDim}));
  ASSERT_EQ(store->blocks(), 3);
  const at::Tensor before = store->Materialize();
  // Drop every token of block 1 (tokens 4..7) in both heads.
  const at::Tensor keep = at::tensor({0, 1, 2, 3, 8, 9, 10, 11}, at::kLong).repeat({kHeads, 1});
  const int64_t held_before = store->held_bytes();
  ASSERT_THAT(store->Retain(keep), IsOk());
  EXPECT_EQ(store->blocks(), 2);
  EXPECT_LT(store->held_bytes(), held_before);
  EXPECT_TRUE(at::equal(store->Materialize(),
                        before.gather(1, keep.unsqueeze(-1).expand({kHeads, 8, kDim}))));
}

TEST(PerChannelStoreTest, RetainMovesUnevenResidualIntoABlock) {
  ASSERT_OK_AND_ASSIGN(auto store,
                       PerChannelQuantizedStore::Create({8, false, at::kFloat}, 4, Spec(0)));
  AppendOneByOne(*store, at::randn({kHeads, 7, kDim}));  // 4 quantized, 3 residual.
  // Head 0 keeps one residual token (6), head 1 two (5, 6): head 1's token 5 moves
  // into a new block made from the residual.
  const at::Tensor keep = at::tensor({0, 1, 6, 1, 5, 6}, at::kLong).view({2, 3});
  ASSERT_THAT(store->Retain(keep), IsOk());
  EXPECT_EQ(store->length(), 3);
  EXPECT_EQ(store->residual_length(), 1);
  EXPECT_EQ(store->blocks(), 2);
}

TEST(PerChannelStoreTest, RandomEvictionKeepsExactlyTheBlocksInUse) {
  // Different tokens per head, uneven residuals and appends between evictions: after
  // every Retain each block left is one some head still holds a token of, and the
  // block indices are renumbered densely.
  at::manual_seed(7);
  auto store = *PerChannelQuantizedStore::Create({4, false, at::kFloat}, 4, Spec(3));
  for (int round = 0; round < 20; ++round) {
    AppendOneByOne(*store, at::randn({kHeads, 5, kDim}));
    const int64_t length = store->length();
    const int64_t m = length * 2 / 3;
    std::vector<at::Tensor> rows;
    for (int64_t h = 0; h < kHeads; ++h) {
      rows.push_back(std::get<0>(at::sort(at::randperm(length, at::kLong).narrow(0, 0, m))));
    }
    ASSERT_THAT(store->Retain(at::stack(rows)), IsOk());
    ASSERT_EQ(store->length(), m);
    const auto runs = store->DecodeRuns();  // The quantized tokens first, then the residual.
    ASSERT_TRUE(runs.has_value() && !runs->empty());
    const auto* view = std::get_if<kernels::ChannelBlocksView>(&runs->front());
    ASSERT_NE(view, nullptr);
    const at::Tensor in_use = std::get<0>(at::_unique(view->block_of.reshape({-1})));
    EXPECT_EQ(store->blocks(), in_use.numel()) << "round " << round;
    EXPECT_TRUE(at::equal(in_use, at::arange(store->blocks(), at::kLong))) << "round " << round;
  }
}

TEST(QuantizedStoreTest, NanInputIsAnError) {
  at::Tensor x = at::randn({kHeads, 1, kDim});
  x[0][0][5] = std::numeric_limits<float>::quiet_NaN();
  ASSERT_OK_AND_ASSIGN(auto per_token,
                       PerTokenQuantizedStore::Create({4, false, at::kFloat}, 32, Spec(0)));
  EXPECT_THAT(per_token->Append(x), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NaN")));
  ASSERT_OK_AND_ASSIGN(auto residual,
                       PerTokenQuantizedStore::Create({4, false, at::kFloat}, 32, Spec(8)));
  EXPECT_THAT(residual->Append(x), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NaN")));
  ASSERT_OK_AND_ASSIGN(auto per_channel,
                       PerChannelQuantizedStore::Create({4, false, at::kFloat}, 4, Spec(0)));
  EXPECT_THAT(per_channel->Append(x), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NaN")));
}

TEST(QuantizedStoreTest, RejectsGroupsThatDoNotFit) {
  EXPECT_THAT(PerTokenQuantizedStore::Create({4, false, at::kFloat}, 48, Spec(0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must divide head_dim 64")));
  EXPECT_THAT(PerChannelQuantizedStore::Create({4, false, at::kFloat}, 0, Spec(0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(">= 1")));
}

}  // namespace
}  // namespace kvlab::quant
