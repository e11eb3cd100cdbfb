#include <ATen/ATen.h>

#include <limits>

#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "core/quantizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "quant/fp8.pb.h"

namespace kvlab::quant {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<TensorStore>> MakeStore(Fp8QuantizerOptions::Format format,
                                                       int64_t residual = 0) {
  Fp8QuantizerOptions options;
  options.set_format(format);
  google::protobuf::Any any;
  any.PackFrom(options);
  KVLAB_ASSIGN_OR_RETURN(auto quantizer, QuantizerRegistry().Create("fp8", any));
  EXPECT_EQ(quantizer->Name(), "fp8");
  return quantizer->MakeStore({2, 4, residual, at::kCPU});
}

// Values exact in both formats round-trip exactly: x = [1, -0.5, 0.25, 2] has
// max |x| = 2, so the scale is 2 / 448 (E4M3) and x / scale = [224, -112, 56, 448],
// all E4M3 values; for E5M2, 2 / 57344 and [28672, -14336, 7168, 57344].
TEST(Fp8QuantizerTest, PowersOfTwoRoundTripExactly) {
  for (const auto format : {Fp8QuantizerOptions::E4M3, Fp8QuantizerOptions::E5M2}) {
    ASSERT_OK_AND_ASSIGN(auto store, MakeStore(format));
    const at::Tensor x = at::tensor({1.0f, -0.5f, 0.25f, 2.0f}).view({1, 1, 4}).expand({2, 1, 4});
    ASSERT_THAT(store->Append(x.contiguous()), IsOk());
    EXPECT_TRUE(at::allclose(store->Materialize(), x, 0, 1e-6)) << store->Materialize();
  }
}

// E4M3 keeps 3 mantissa bits: 1.0625 (1 + 1/16) lies halfway between 1 and 1.125 and
// rounds to even, 1. With max |x| = 448 the scale is 1, so the value is seen directly.
TEST(Fp8QuantizerTest, E4M3RoundsToThreeMantissaBits) {
  ASSERT_OK_AND_ASSIGN(auto store, MakeStore(Fp8QuantizerOptions::E4M3));
  const at::Tensor x = at::tensor({448.0f, 1.0625f, 1.2f, -3.3f}).view({1, 1, 4}).expand({2, 1, 4});
  ASSERT_THAT(store->Append(x.contiguous()), IsOk());
  const at::Tensor back = store->Materialize()[0][0];
  EXPECT_FLOAT_EQ(back[0].item<float>(), 448.0f);
  EXPECT_FLOAT_EQ(back[1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(back[2].item<float>(), 1.25f);   // 1.2 -> nearest of 1.125, 1.25
  EXPECT_FLOAT_EQ(back[3].item<float>(), -3.25f);  // 3.3 -> nearest of 3.25, 3.5
}

TEST(Fp8QuantizerTest, RelativeErrorWithinTheFormatsPrecision) {
  at::manual_seed(3);
  const at::Tensor x = at::randn({2, 50, 4});
  for (const auto& [format, epsilon] :
       {std::pair{Fp8QuantizerOptions::E4M3, 1.0 / 16}, {Fp8QuantizerOptions::E5M2, 1.0 / 8}}) {
    ASSERT_OK_AND_ASSIGN(auto store, MakeStore(format));
    ASSERT_THAT(store->Append(x), IsOk());
    // Normal values carry a relative error of at most half an ulp; tiny ones an
    // absolute error below the subnormal step times the scale.
    const at::Tensor error = (store->Materialize() - x).abs();
    const at::Tensor bound = x.abs() * epsilon + x.abs().amax(-1, true) * 1e-3;
    EXPECT_TRUE((error <= bound).all().item<bool>());
  }
}

TEST(Fp8QuantizerTest, BytesCountValuesAndScales) {
  ASSERT_OK_AND_ASSIGN(auto store, MakeStore(Fp8QuantizerOptions::E4M3));
  ASSERT_THAT(store->Append(at::randn({2, 10, 4})), IsOk());
  // Per token and head: 4 one-byte values and a 4-byte scale.
  EXPECT_EQ(store->held_bytes(), 2 * 10 * (4 + 4));
  EXPECT_EQ(store->Describe(), "fp8-e4m3 per-token");
}

TEST(Fp8QuantizerTest, ProductsReadWhatIsHeld) {
  ASSERT_OK_AND_ASSIGN(auto store, MakeStore(Fp8QuantizerOptions::E5M2));
  const at::Tensor x = at::randn({2, 7, 4});
  ASSERT_THAT(store->Append(x), IsOk());
  const at::Tensor held = store->Materialize();
  const at::Tensor q = at::randn({2, 3, 4});
  ASSERT_OK_AND_ASSIGN(const at::Tensor scores, store->MultiplyTransposed(q));
  EXPECT_TRUE(at::allclose(scores, at::matmul(q, held.transpose(1, 2))));
  const at::Tensor w = at::softmax(at::randn({2, 3, 7}), -1);
  ASSERT_OK_AND_ASSIGN(const at::Tensor weighted, store->Multiply(w));
  EXPECT_TRUE(at::allclose(weighted, at::matmul(w, held)));
}

TEST(Fp8QuantizerTest, RetainKeepsTokensAndTheirScales) {
  ASSERT_OK_AND_ASSIGN(auto store, MakeStore(Fp8QuantizerOptions::E4M3));
  ASSERT_THAT(store->Append(at::randn({2, 6, 4}) * at::arange(1, 7).view({1, 6, 1})), IsOk());
  const at::Tensor before = store->Materialize();
  const at::Tensor keep = at::tensor({0, 2, 5, 1, 3, 4}, at::kLong).view({2, 3});
  ASSERT_THAT(store->Retain(keep), IsOk());
  EXPECT_EQ(store->length(), 3);
  EXPECT_TRUE(at::equal(store->Materialize()[0], before[0].index_select(0, keep[0])));
  EXPECT_TRUE(at::equal(store->Materialize()[1], before[1].index_select(0, keep[1])));
  EXPECT_EQ(store->held_bytes(), 2 * 3 * (4 + 4));
}

TEST(Fp8QuantizerTest, AZeroVectorStaysZero) {
  ASSERT_OK_AND_ASSIGN(auto store, MakeStore(Fp8QuantizerOptions::E4M3));
  ASSERT_THAT(store->Append(at::zeros({2, 1, 4})), IsOk());
  EXPECT_TRUE(at::equal(store->Materialize(), at::zeros({2, 1, 4})));
}

TEST(Fp8QuantizerTest, ErrorsNameWhatIsWrong) {
  EXPECT_THAT(MakeStore(Fp8QuantizerOptions::E4M3, /*residual=*/8),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("residual_tokens")));
  ASSERT_OK_AND_ASSIGN(auto store, MakeStore(Fp8QuantizerOptions::E4M3));
  at::Tensor bad = at::randn({2, 1, 4});
  bad[0][0][1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(store->Append(bad), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NaN")));
  EXPECT_EQ(store->length(), 0);
  Fp8QuantizerOptions options;
  options.set_format(static_cast<Fp8QuantizerOptions::Format>(7));
  google::protobuf::Any any;
  any.PackFrom(options);
  EXPECT_THAT(QuantizerRegistry().Create("fp8", any),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fp8.format")));
}

}  // namespace
}  // namespace kvlab::quant
