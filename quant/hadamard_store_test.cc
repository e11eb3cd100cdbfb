#include "quant/hadamard_store.h"

#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "core/dense_tensor_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/integer_format.h"
#include "quant/per_token_store.h"

namespace kvlab::quant {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kHeads = 2, kDim = 64;

StoreSpec Spec() { return StoreSpec{kHeads, kDim, 0, at::kCPU}; }

std::unique_ptr<TensorStore> Dense() {
  return std::move(DenseTensorStore::Create(kHeads, kDim, at::kFloat, at::kCPU)).value();
}

TEST(WalshHadamardTest, OrderFourByHand) {
  const at::Tensor h = WalshHadamard(4, at::TensorOptions());
  const at::Tensor want = at::tensor({1.0f, 1.0f, 1.0f, 1.0f,    //
                                      1.0f, -1.0f, 1.0f, -1.0f,  //
                                      1.0f, 1.0f, -1.0f, -1.0f,  //
                                      1.0f, -1.0f, -1.0f, 1.0f})
                              .view({4, 4}) /
                          2.0;
  EXPECT_TRUE(at::equal(h, want));
  // Orthonormal and its own inverse.
  EXPECT_TRUE(at::allclose(at::matmul(WalshHadamard(64, at::TensorOptions()),
                                      WalshHadamard(64, at::TensorOptions())),
                           at::eye(64), 0, 1e-6));
}

// Around a full-precision store the rotation changes nothing attention reads.
TEST(HadamardRotatedStoreTest, AttentionIsUnchangedAroundADenseStore) {
  ASSERT_OK_AND_ASSIGN(auto rotated, HadamardRotatedStore::Create(64, Spec(), Dense()));
  auto plain = Dense();
  const at::Tensor x = at::randn({kHeads, 20, kDim});
  ASSERT_THAT(rotated->Append(x), IsOk());
  ASSERT_THAT(plain->Append(x), IsOk());
  EXPECT_TRUE(at::allclose(rotated->Materialize(), x, 0, 1e-5));
  const at::Tensor q = at::randn({kHeads, 3, kDim});
  ASSERT_OK_AND_ASSIGN(const at::Tensor scores, rotated->MultiplyTransposed(q));
  ASSERT_OK_AND_ASSIGN(const at::Tensor want_scores, plain->MultiplyTransposed(q));
  EXPECT_TRUE(at::allclose(scores, want_scores, 1e-5, 1e-4));
  const at::Tensor w = at::softmax(at::randn({kHeads, 3, 20}), -1);
  ASSERT_OK_AND_ASSIGN(const at::Tensor out, rotated->Multiply(w));
  ASSERT_OK_AND_ASSIGN(const at::Tensor want_out, plain->Multiply(w));
  EXPECT_TRUE(at::allclose(out, want_out, 1e-5, 1e-5));
  // Eviction keeps the same tokens; bytes are the wrapped store's.
  ASSERT_THAT(rotated->Retain(at::tensor({0, 5, 19}, at::kLong).repeat({kHeads, 1})), IsOk());
  EXPECT_EQ(rotated->length(), 3);
  EXPECT_EQ(rotated->held_bytes(), kHeads * 3 * kDim * 4);
  EXPECT_TRUE(at::allclose(rotated->Materialize().select(1, 1), x.select(1, 5), 0, 1e-5));
  EXPECT_FALSE(rotated->DecodeRuns().has_value());
}

// One outlier channel stretches every plain int4 group it sits in; rotated, it is
// spread over the block and each group's range shrinks.
TEST(HadamardRotatedStoreTest, RotationLowersInt4ErrorWithAnOutlierChannel) {
  const kernels::IntegerFormat int4{4, false, at::kHalf};
  ASSERT_OK_AND_ASSIGN(auto plain, PerTokenQuantizedStore::Create(int4, 32, Spec()));
  ASSERT_OK_AND_ASSIGN(auto inner, PerTokenQuantizedStore::Create(int4, 32, Spec()));
  ASSERT_OK_AND_ASSIGN(auto rotated, HadamardRotatedStore::Create(64, Spec(), std::move(inner)));
  at::Tensor x = at::randn({kHeads, 200, kDim});
  x.select(2, 7).mul_(30.0);
  ASSERT_THAT(plain->Append(x), IsOk());
  ASSERT_THAT(rotated->Append(x), IsOk());
  const double plain_error = (plain->Materialize() - x).pow(2).mean().item<double>();
  const double rotated_error = (rotated->Materialize() - x).pow(2).mean().item<double>();
  EXPECT_LT(rotated_error, plain_error / 2) << plain_error << " " << rotated_error;
  EXPECT_EQ(rotated->held_bytes(), plain->held_bytes());
  EXPECT_THAT(rotated->Describe(), HasSubstr("int4-asym g32 per-token"));
  EXPECT_THAT(rotated->Describe(), HasSubstr("hadamard64"));
}

TEST(HadamardRotatedStoreTest, BadBlocksAndShapesAreErrors) {
  for (int64_t block : {0, 1, 3, 48, 128}) {
    EXPECT_THAT(HadamardRotatedStore::Create(block, Spec(), Dense()),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hadamard_block")))
        << block;
  }
  ASSERT_OK_AND_ASSIGN(auto store, HadamardRotatedStore::Create(32, Spec(), Dense()));
  EXPECT_THAT(store->Append(at::randn({kHeads, 2, 48})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokens must be")));
  EXPECT_THAT(store->MultiplyTransposed(at::randn({kHeads, 2, 48})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("queries must be")));
}

}  // namespace
}  // namespace kvlab::quant
