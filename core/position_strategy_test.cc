#include "core/position_strategy.h"

#include <ATen/ATen.h>

#include <memory>

#include "base/status_matchers.h"
#include "core/dense_tensor_store.h"
#include "core/rotary_embedding.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

constexpr int64_t kKvHeads = 2, kHeadDim = 8;

RotaryEmbedding Rope() {
  return *RotaryEmbedding::Create(kHeadDim, kHeadDim, 10000.0, RopeStyle::kInterleaved);
}

at::Tensor Positions(int64_t first, int64_t n) {
  return at::arange(first, first + n, at::kLong);
}

std::unique_ptr<DenseTensorStore> StoreOf(const at::Tensor& keys) {
  auto store = DenseTensorStore::Create(kKvHeads, kHeadDim, at::kFloat, at::kCPU);
  EXPECT_THAT(store, IsOk());
  EXPECT_THAT((*store)->Append(keys), IsOk());
  return *std::move(store);
}

TEST(PositionStrategyTest, OriginalPositionsStoreKeysRotatedWhereTheyStand) {
  const auto strategy = MakePositionStrategy(PositionMode::kOriginal);
  const RotaryEmbedding rope = Rope();
  const at::Tensor keys = at::randn({kKvHeads, 3, kHeadDim});
  const at::Tensor queries = at::randn({3 * kKvHeads, 3, kHeadDim});
  const at::Tensor positions = Positions(40, 3);
  EXPECT_TRUE(at::equal(strategy->KeysToStore(rope, keys, positions), rope.Apply(keys, positions)));
  EXPECT_TRUE(at::equal(strategy->RotateQueries(rope, queries, positions, /*held=*/7),
                        rope.Apply(queries, positions)));
  // Stored rotated: the statistics read them as they are.
  const at::Tensor held_positions = Positions(40, 3).expand({kKvHeads, 3});
  EXPECT_TRUE(at::equal(strategy->KeysAtOriginalPositions(rope, keys, held_positions), keys));
  EXPECT_TRUE(strategy->StoresKeysRotated());

  const auto store = StoreOf(keys);
  const at::Tensor block = at::randn({kKvHeads, 4, kHeadDim});
  ASSERT_OK_AND_ASSIGN(const at::Tensor scores,
                       strategy->ScoreBlocks(rope, *store)(block, 0, 3));
  ASSERT_OK_AND_ASSIGN(const at::Tensor products, store->MultiplyTransposed(block));
  EXPECT_TRUE(at::equal(scores, products));
  // A range scores only its keys.
  ASSERT_OK_AND_ASSIGN(const at::Tensor last_two, strategy->ScoreBlocks(rope, *store)(block, 1, 3));
  EXPECT_TRUE(at::equal(last_two, products.narrow(2, 1, 2)));
}

TEST(PositionStrategyTest, CacheSlotsStoreKeysAsTheyComeAndRotateBySlot) {
  const auto strategy = MakePositionStrategy(PositionMode::kCacheSlot);
  const RotaryEmbedding rope = Rope();
  const at::Tensor keys = at::randn({kKvHeads, 5, kHeadDim});
  const at::Tensor queries = at::randn({3 * kKvHeads, 2, kHeadDim});
  // Two new tokens at positions 100 and 101 land in slots 3 and 4 of a cache of 5.
  const at::Tensor positions = Positions(100, 2);
  EXPECT_TRUE(at::equal(strategy->KeysToStore(rope, keys, positions), keys));
  EXPECT_TRUE(at::equal(strategy->RotateQueries(rope, queries, positions, /*held=*/5),
                        rope.Apply(queries, Positions(3, 2))));
  const at::Tensor held_positions = at::tensor({0, 7, 8, 100, 101}, at::kLong).expand({kKvHeads, 5});
  EXPECT_TRUE(at::equal(strategy->KeysAtOriginalPositions(rope, keys, held_positions),
                        rope.Apply(keys, held_positions)));
  EXPECT_FALSE(strategy->StoresKeysRotated());

  const auto store = StoreOf(keys);
  const at::Tensor block = at::randn({kKvHeads, 4, kHeadDim});
  ASSERT_OK_AND_ASSIGN(const at::Tensor scores, strategy->ScoreBlocks(rope, *store)(block, 0, 5));
  EXPECT_TRUE(at::equal(scores,
                        at::matmul(block, rope.Apply(keys, Positions(0, 5)).transpose(1, 2))));
  ASSERT_OK_AND_ASSIGN(const at::Tensor middle, strategy->ScoreBlocks(rope, *store)(block, 1, 4));
  EXPECT_TRUE(at::allclose(middle, scores.narrow(2, 1, 3), 1e-6, 1e-6));
}

// Until something is evicted, slot and position coincide and both modes attend alike.
TEST(PositionStrategyTest, BothModesScoreAlikeWhileSlotsArePositions) {
  const RotaryEmbedding rope = Rope();
  const at::Tensor keys = at::randn({kKvHeads, 6, kHeadDim});
  const at::Tensor queries = at::randn({kKvHeads, 2, kHeadDim});
  const at::Tensor positions = Positions(0, 6);
  at::Tensor scores[2];
  int i = 0;
  for (PositionMode mode : {PositionMode::kOriginal, PositionMode::kCacheSlot}) {
    const auto strategy = MakePositionStrategy(mode);
    const auto store = StoreOf(strategy->KeysToStore(rope, keys, positions));
    const at::Tensor q = strategy->RotateQueries(rope, queries, Positions(4, 2), /*held=*/6);
    ASSERT_OK_AND_ASSIGN(scores[i++], strategy->ScoreBlocks(rope, *store)(q, 0, 6));
  }
  EXPECT_TRUE(at::allclose(scores[0], scores[1], /*rtol=*/1e-5, /*atol=*/1e-5));
}

}  // namespace
}  // namespace kvlab
