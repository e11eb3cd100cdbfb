#include "core/dense_tensor_store.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include "base/status_matchers.h"
#include "kernels/attention_scores.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;

TEST(DenseTensorStoreTest, ProductsMatchHeldTokens) {
  ASSERT_OK_AND_ASSIGN(auto store, DenseTensorStore::Create(2, 4, at::kFloat, at::kCPU));
  const at::Tensor tokens = at::randn({2, 5, 4});
  ASSERT_THAT(store->Append(tokens.narrow(1, 0, 3)), IsOk());
  ASSERT_THAT(store->Append(tokens.narrow(1, 3, 2)), IsOk());
  const at::Tensor q = at::randn({2, 3, 4});
  const absl::StatusOr<at::Tensor> scores = store->MultiplyTransposed(q);
  ASSERT_THAT(scores, IsOk());
  EXPECT_TRUE(at::allclose(*scores, at::matmul(q, tokens.transpose(1, 2))));
  const at::Tensor w = at::rand({2, 3, 5});
  const absl::StatusOr<at::Tensor> out = store->Multiply(w);
  ASSERT_THAT(out, IsOk());
  EXPECT_TRUE(at::allclose(*out, at::matmul(w, tokens)));
  EXPECT_TRUE(at::equal(store->Materialize(), tokens));
  EXPECT_EQ(store->held_bytes(), 5 * 2 * 4 * 4);
  EXPECT_EQ(store->Describe(), "fp32");
  // Over tokens 1..3 only, for the fused kernels' widths and for matmul's.
  for (const int64_t m : {int64_t{3}, kernels::kFusedMaxQueries + 1}) {
    const at::Tensor queries = at::randn({2, m, 4});
    ASSERT_OK_AND_ASSIGN(const at::Tensor part, store->MultiplyTransposedRange(queries, 1, 4));
    EXPECT_TRUE(at::allclose(part, at::matmul(queries, tokens.narrow(1, 1, 3).transpose(1, 2)),
                             1e-5, 1e-5));
    const at::Tensor weights = at::rand({2, m, 3});
    ASSERT_OK_AND_ASSIGN(const at::Tensor weighted, store->MultiplyRange(weights, 1, 4));
    EXPECT_TRUE(at::allclose(weighted, at::matmul(weights, tokens.narrow(1, 1, 3)), 1e-5, 1e-5));
  }
}

// A malformed product is an InvalidArgument the caller can see as one, not an exception.
TEST(DenseTensorStoreTest, ProductsOfTheWrongShapeAreInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(auto store, DenseTensorStore::Create(2, 4, at::kFloat, at::kCPU));
  ASSERT_THAT(store->Append(at::randn({2, 5, 4})), IsOk());
  EXPECT_THAT(store->MultiplyTransposed(at::randn({2, 1, 3})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("queries")));
  EXPECT_THAT(store->Multiply(at::randn({2, 1, 6})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("weights")));
}

TEST(DenseTensorStoreTest, HalfPrecisionStoresRoundedValues) {
  ASSERT_OK_AND_ASSIGN(auto store, DenseTensorStore::Create(1, 8, at::kHalf, at::kCPU));
  const at::Tensor tokens = at::randn({1, 3, 8});
  ASSERT_THAT(store->Append(tokens), IsOk());
  EXPECT_TRUE(at::equal(store->Materialize(), tokens.to(at::kHalf).to(at::kFloat)));
  EXPECT_EQ(store->held_bytes(), 3 * 8 * 2);
  EXPECT_EQ(store->Describe(), "fp16");
}

TEST(DenseTensorStoreTest, RetainKeepsChosenTokensPerHead) {
  ASSERT_OK_AND_ASSIGN(auto store, DenseTensorStore::Create(2, 2, at::kFloat, at::kCPU));
  const at::Tensor tokens = at::randn({2, 4, 2});
  ASSERT_THAT(store->Append(tokens), IsOk());
  const at::Tensor keep = at::tensor({1, 3, 0, 2}, at::kLong).view({2, 2});
  ASSERT_THAT(store->Retain(keep), IsOk());
  EXPECT_EQ(store->length(), 2);
  const at::Tensor held = store->Materialize();
  EXPECT_TRUE(at::equal(held[0][1], tokens[0][3]));
  EXPECT_TRUE(at::equal(held[1][0], tokens[1][0]));
}

TEST(DenseTensorStoreTest, RejectsUnsupportedDtypeAndDevice) {
  EXPECT_THAT(DenseTensorStore::Create(1, 4, at::kInt, at::kCPU),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dtype")));
  if (!at::hasCUDA()) {
    EXPECT_THAT(DenseTensorStore::Create(1, 4, at::kFloat, c10::Device("cuda:0")),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no CUDA")));
  }
}

}  // namespace
}  // namespace kvlab
