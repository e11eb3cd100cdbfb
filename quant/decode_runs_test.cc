// The decode-attention kernel reads a cache's stores through DecodeRuns(): checked here
// against the stores' own products, through BaseKvCache, for key and value stores
// whose runs (quantized tokens, residual) end at different tokens.
#include <ATen/ATen.h>

#include <functional>
#include <memory>

#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "core/base_kv_cache.h"
#include "core/dense_tensor_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/integer_format.h"
#include "quant/per_channel_store.h"
#include "quant/per_token_store.h"

namespace kvlab::quant {
namespace {

constexpr int64_t kQHeads = 6, kKvHeads = 2, kDim = 32;

StoreSpec Spec(int64_t residual) { return StoreSpec{kKvHeads, kDim, residual, at::kCPU}; }

template <typename MakeStore>
TensorStoreFactory Factory(MakeStore make) {
  return [make](int) -> absl::StatusOr<std::unique_ptr<TensorStore>> {
    auto store = make();
    if (!store.ok()) return store.status();
    return std::unique_ptr<TensorStore>(*std::move(store));
  };
}

TensorStoreFactory PerChannelInt4(int64_t block, int64_t residual) {
  return Factory([=] {
    return PerChannelQuantizedStore::Create({4, false, at::kHalf}, block, Spec(residual));
  });
}
TensorStoreFactory PerTokenInt8(int64_t group, int64_t residual) {
  return Factory(
      [=] { return PerTokenQuantizedStore::Create({8, true, at::kFloat}, group, Spec(residual)); });
}
TensorStoreFactory Dense(at::ScalarType dtype) {
  return Factory([=] { return DenseTensorStore::Create(kKvHeads, kDim, dtype, at::kCPU); });
}

absl::StatusOr<std::unique_ptr<BaseKvCache>> MakeCache(const TensorStoreFactory& keys,
                                                       const TensorStoreFactory& values,
                                                       DecodeKernelUse use) {
  KVLAB_ASSIGN_OR_RETURN(RotaryEmbedding rope,
                         RotaryEmbedding::Create(kDim, kDim, 10000.0, RopeStyle::kHalf));
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<BaseKvCache> cache,
                         BaseKvCache::Create({1, kQHeads, kKvHeads, kDim}, rope,
                                             PositionMode::kOriginal, at::kCPU, keys, values));
  cache->set_decode_kernel_use(use);
  return cache;
}

// A prefill then single-token steps through two caches of the same stores, one taking
// the decode kernel at every step and one the products: outputs and statistics agree.
void ExpectDecodeKernelMatchesProducts(const TensorStoreFactory& keys,
                                       const TensorStoreFactory& values) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<BaseKvCache> kernel,
                       MakeCache(keys, values, DecodeKernelUse::kAlways));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<BaseKvCache> products,
                       MakeCache(keys, values, DecodeKernelUse::kNever));
  constexpr int64_t kPrefill = 9, kSteps = 14;
  const at::Tensor q = at::randn({kQHeads, kPrefill + kSteps, kDim});
  const at::Tensor k = at::randn({kKvHeads, kPrefill + kSteps, kDim});
  const at::Tensor v = at::randn({kKvHeads, kPrefill + kSteps, kDim});
  int64_t position = 0;
  while (position < kPrefill + kSteps) {
    const int64_t n = position == 0 ? kPrefill : 1;
    AttentionInputs in;
    in.queries = q.narrow(1, position, n).contiguous();
    in.keys = k.narrow(1, position, n).contiguous();
    in.values = v.narrow(1, position, n).contiguous();
    in.first_position = position;
    in.stats_request.column_sums = true;
    in.stats_request.recent_queries = 2;
    auto a = kernel->Attend(0, in);
    auto b = products->Attend(0, in);
    ASSERT_THAT(a, IsOk());
    ASSERT_THAT(b, IsOk());
    SCOPED_TRACE(testing::Message() << "step at position " << position);
    EXPECT_TRUE(at::allclose(a->output, b->output, 1e-4, 1e-5));
    EXPECT_TRUE(at::allclose(a->stats.column_sums, b->stats.column_sums, 1e-4, 1e-6));
    ASSERT_EQ(a->stats.recent.sizes(), b->stats.recent.sizes());
    EXPECT_TRUE(at::allclose(a->stats.recent, b->stats.recent, 1e-4, 1e-6));
    position += n;
  }
  EXPECT_EQ(kernel->Memory().held_bytes, products->Memory().held_bytes);
}

TEST(DecodeRunsTest, PerChannelKeysAndPerTokenValuesWithDifferentResiduals) {
  // Keys: blocks of 4 tokens after a residual of 5; values: a residual of 3.
  ExpectDecodeKernelMatchesProducts(PerChannelInt4(4, 5), PerTokenInt8(16, 3));
}

TEST(DecodeRunsTest, QuantizedKeysAndDenseHalfValues) {
  ExpectDecodeKernelMatchesProducts(PerTokenInt8(32, 0), Dense(at::kHalf));
}

TEST(DecodeRunsTest, TwoBitKeysAndValues) {
  ExpectDecodeKernelMatchesProducts(
      Factory([] { return PerChannelQuantizedStore::Create({2, false, at::kFloat}, 4, Spec(6)); }),
      Factory([] { return PerTokenQuantizedStore::Create({2, false, at::kFloat}, 16, Spec(2)); }));
}

TEST(DecodeRunsTest, DenseFloatCache) {
  ExpectDecodeKernelMatchesProducts(Dense(at::kFloat), Dense(at::kFloat));
}

TEST(DecodeRunsTest, QuantizedStoreRunsAreQuantizedThenResidual) {
  auto store = PerTokenQuantizedStore::Create({4, false, at::kFloat}, 16, Spec(3));
  ASSERT_THAT(store, IsOk());
  for (int i = 0; i < 7; ++i) ASSERT_THAT((*store)->Append(at::randn({kKvHeads, 1, kDim})), IsOk());
  const auto runs = (*store)->DecodeRuns();
  ASSERT_TRUE(runs.has_value());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ(std::get<kernels::TokenGroupsView>((*runs)[0]).levels.size(1),
            (*store)->quantized_length());
  EXPECT_EQ(std::get<kernels::DenseRowsView>((*runs)[1]).rows.size(1), 3);
}

}  // namespace
}  // namespace kvlab::quant
