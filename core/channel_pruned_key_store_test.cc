#include "core/channel_pruned_key_store.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "core/dense_tensor_store.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kKvHeads = 2;
constexpr int64_t kHeadDim = 8;

KeyStoreMaker DenseMaker(at::ScalarType dtype) {
  return [dtype](int64_t head_dim) -> absl::StatusOr<std::unique_ptr<TensorStore>> {
    KVLAB_ASSIGN_OR_RETURN(auto store,
                           DenseTensorStore::Create(kKvHeads, head_dim, dtype, c10::kCPU));
    return std::unique_ptr<TensorStore>(std::move(store));
  };
}

absl::StatusOr<std::unique_ptr<ChannelPrunedKeyStore>> MakeStore(
    at::ScalarType dtype = at::kFloat) {
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<TensorStore> full, DenseMaker(dtype)(kHeadDim));
  return std::make_unique<ChannelPrunedKeyStore>(kKvHeads, kHeadDim, std::move(full),
                                                 DenseMaker(dtype));
}

// Head 0 keeps 5 channels, head 1 another 5.
at::Tensor Kept() { return at::tensor({0, 2, 3, 5, 7, 1, 2, 4, 6, 7}, at::kLong).view({2, 5}); }

// `keys` with the channels that `kept` drops zeroed in its first `tokens` tokens: what
// kvpress's ThinKPress attends.
at::Tensor Zeroed(const at::Tensor& keys, int64_t tokens, const at::Tensor& kept) {
  at::Tensor mask = at::zeros({kKvHeads, 1, kHeadDim});
  mask.scatter_(2, kept.unsqueeze(1), 1.f);
  at::Tensor zeroed = keys.clone();
  zeroed.narrow(1, 0, tokens).mul_(mask);
  return zeroed;
}

TEST(ChannelPrunedKeyStoreTest, AttendsExactlyTheKeysWithPrunedChannelsZeroed) {
  ASSERT_OK_AND_ASSIGN(auto store, MakeStore());
  const at::Tensor keys = at::randn({kKvHeads, 10, kHeadDim});
  ASSERT_THAT(store->Append(keys), IsOk());
  ASSERT_THAT(store->PruneOldest(7, Kept()), IsOk());
  EXPECT_EQ(store->length(), 10);
  EXPECT_EQ(store->pruned_length(), 7);
  // Decode tokens arrive after pruning with all their channels.
  const at::Tensor more = at::randn({kKvHeads, 3, kHeadDim});
  ASSERT_THAT(store->Append(more), IsOk());
  const at::Tensor expected = Zeroed(at::cat({keys, more}, 1), 7, Kept());

  EXPECT_TRUE(at::equal(store->Materialize(), expected));
  const at::Tensor queries = at::randn({kKvHeads, 4, kHeadDim});
  ASSERT_OK_AND_ASSIGN(const at::Tensor scores, store->MultiplyTransposed(queries));
  EXPECT_TRUE(at::allclose(scores, at::matmul(queries, expected.transpose(1, 2)), 1e-5, 1e-6));
  const at::Tensor weights = at::rand({kKvHeads, 4, 13});
  ASSERT_OK_AND_ASSIGN(const at::Tensor weighted, store->Multiply(weights));
  EXPECT_TRUE(at::allclose(weighted, at::matmul(weights, expected), 1e-5, 1e-6));
  EXPECT_FALSE(store->DecodeRuns().has_value());
}

TEST(ChannelPrunedKeyStoreTest, HeldBytesFallByTheDroppedChannelsPlusTheIndices) {
  for (const at::ScalarType dtype : {at::kFloat, at::kHalf}) {
    ASSERT_OK_AND_ASSIGN(auto store, MakeStore(dtype));
    ASSERT_THAT(store->Append(at::randn({kKvHeads, 10, kHeadDim})), IsOk());
    const int64_t before = store->held_bytes();
    const int64_t element = dtype == at::kFloat ? 4 : 2;
    EXPECT_EQ(before, kKvHeads * 10 * kHeadDim * element);
    ASSERT_THAT(store->PruneOldest(7, Kept()), IsOk());
    const int64_t dropped = kKvHeads * 7 * (kHeadDim - 5) * element;
    const int64_t indices = kKvHeads * 5 * 8;  // int64 channel indices.
    EXPECT_EQ(store->index_bytes(), indices);
    EXPECT_EQ(store->held_bytes(), before - dropped + indices);
  }
}

TEST(ChannelPrunedKeyStoreTest, RetainKeepsEitherRunWhenEveryHeadKeepsAsManyPruned) {
  ASSERT_OK_AND_ASSIGN(auto store, MakeStore());
  const at::Tensor keys = at::randn({kKvHeads, 10, kHeadDim});
  ASSERT_THAT(store->Append(keys), IsOk());
  ASSERT_THAT(store->PruneOldest(6, Kept()), IsOk());
  // Two pruned tokens and two whole ones per head, different ones per head.
  const at::Tensor keep = at::tensor({1, 4, 6, 9, 0, 5, 7, 8}, at::kLong).view({2, 4});
  ASSERT_THAT(store->Retain(keep), IsOk());
  EXPECT_EQ(store->pruned_length(), 2);
  EXPECT_EQ(store->length(), 4);
  const at::Tensor expected =
      Zeroed(keys, 6, Kept()).gather(1, keep.unsqueeze(2).expand({kKvHeads, 4, kHeadDim}));
  EXPECT_TRUE(at::equal(store->Materialize(), expected));

  const at::Tensor uneven = at::tensor({0, 1, 1, 2}, at::kLong).view({2, 2});
  EXPECT_THAT(store->Retain(uneven),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("every KV head")));
}

TEST(ChannelPrunedKeyStoreTest, RefusesBadPruning) {
  ASSERT_OK_AND_ASSIGN(auto store, MakeStore());
  ASSERT_THAT(store->Append(at::randn({kKvHeads, 4, kHeadDim})), IsOk());
  EXPECT_THAT(store->PruneOldest(5, Kept()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("5 tokens of 4 held")));
  EXPECT_THAT(store->PruneOldest(2, at::arange(kHeadDim, at::kLong).repeat({kKvHeads, 1})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("d_kept < 8")));
  ASSERT_THAT(store->PruneOldest(2, Kept()), IsOk());
  EXPECT_THAT(store->PruneOldest(1, Kept()), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("once")));
}

}  // namespace
}  // namespace kvlab
