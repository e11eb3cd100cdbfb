#include "kernels/integer_format.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/kernel_test_util.h"

namespace kvlab::kernels {
namespace {

using ::testing::HasSubstr;

class IntegerFormatTest : public ::testing::TestWithParam<IntegerFormat> {
 protected:
  IntegerFormat Format() const { return GetParam(); }
};

// Every value reads back within half a step of its group's stored scale (plus the
// zero point's rounding), and levels stay in range.
TEST_P(IntegerFormatTest, RoundTripErrorIsWithinHalfAStep) {
  const IntegerFormat f = Format();
  const at::Tensor x = at::randn({3, 5, 32}) * 4.0 + 1.0;
  absl::StatusOr<QuantizedGroups> q = QuantizeGroups(f, x);
  ASSERT_THAT(q, IsOk());
  EXPECT_EQ(q->scale.scalar_type(), f.scale_dtype);
  EXPECT_LE(q->levels.max().item<int64_t>(), f.max_level());
  const at::Tensor back = DequantizeLevels(f, q->levels, q->scale, q->zero);
  at::Tensor bound = q->scale.to(at::kFloat) * 0.5 + 1e-5;
  if (!f.symmetric) bound = bound + (q->zero.to(at::kFloat) - x.amin(-1, true)).abs();
  EXPECT_TRUE(((back - x).abs() <= bound).all().item<bool>())
      << "max error " << (back - x).abs().max().item<float>();
  // int8 is much finer than int4, and int4 than int2.
  const double step = 8.0 / static_cast<double>(f.max_level());
  EXPECT_LT((back - x).abs().mean().item<double>(), step);
}

TEST_P(IntegerFormatTest, ConstantGroupsReadBackExactly) {
  const IntegerFormat f = Format();
  for (float value : {0.0f, 2.5f, -3.0f}) {
    const at::Tensor x = at::full({2, 16}, value);
    ASSERT_OK_AND_ASSIGN(QuantizedGroups q, QuantizeGroups(f, x));
    const at::Tensor back = DequantizeLevels(f, q.levels, q.scale, q.zero);
    if (f.symmetric && value != 0.0f) {
      // A constant nonzero group is its own max: it lands on the top level.
      EXPECT_TRUE(at::allclose(back, x, 1e-2, 1e-2));
    } else {
      EXPECT_TRUE(at::allclose(back, x.to(f.scale_dtype).to(at::kFloat), 0, 1e-6)) << value;
    }
  }
}

TEST_P(IntegerFormatTest, NanOrInfIsAnError) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    at::Tensor x = at::randn({2, 8});
    x[1][3] = bad;
    EXPECT_THAT(QuantizeGroups(Format(), x),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NaN or Inf")));
  }
}

TEST_P(IntegerFormatTest, PackUnpackRoundTripsAtOddSizes) {
  const IntegerFormat f = Format();
  for (int64_t d : {1, 2, 7, 31, 64, 65}) {
    const at::Tensor levels =
        at::randint(0, f.max_level() + 1, {3, d}, at::TensorOptions().dtype(at::kByte));
    const at::Tensor packed = PackLevels(f, levels);
    EXPECT_EQ(packed.size(-1), f.PackedBytes(d));
    EXPECT_TRUE(at::equal(UnpackLevels(f, packed, d), levels)) << "d=" << d;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, IntegerFormatTest,
    ::testing::Values(IntegerFormat{8, false, at::kFloat}, IntegerFormat{8, true, at::kFloat},
                      IntegerFormat{4, false, at::kFloat}, IntegerFormat{4, true, at::kFloat},
                      IntegerFormat{4, false, at::kBFloat16}, IntegerFormat{8, true, at::kHalf},
                      IntegerFormat{4, true, at::kBFloat16}, IntegerFormat{2, false, at::kFloat},
                      IntegerFormat{2, true, at::kHalf}),
    testing::FormatTestName);

TEST(IntegerFormatPackingTest, NibbleOrder) {
  const IntegerFormat int4{4, false, at::kFloat};
  const at::Tensor levels = at::tensor({1, 2, 15}, at::TensorOptions().dtype(at::kByte));
  const at::Tensor packed = PackLevels(int4, levels);
  EXPECT_EQ(packed[0].item<uint8_t>(), 0x21);  // Value 0 low, value 1 high.
  EXPECT_EQ(packed[1].item<uint8_t>(), 0x0F);  // Odd tail, high nibble zero.
}

TEST(IntegerFormatPackingTest, TwoBitOrder) {
  const IntegerFormat int2{2, false, at::kFloat};
  EXPECT_EQ(int2.PackedBytes(64), 16);
  EXPECT_EQ(int2.PackedBytes(5), 2);
  // Values 0..3 of a byte in bits 0-1, 2-3, 4-5, 6-7: 1 | 2 << 2 | 3 << 4 | 0 << 6.
  const at::Tensor levels = at::tensor({1, 2, 3, 0, 3}, at::TensorOptions().dtype(at::kByte));
  const at::Tensor packed = PackLevels(int2, levels);
  ASSERT_EQ(packed.size(0), 2);
  EXPECT_EQ(packed[0].item<uint8_t>(), 0x39);
  EXPECT_EQ(packed[1].item<uint8_t>(), 0x03);  // Tail: the rest zero.
  EXPECT_TRUE(at::equal(UnpackLevels(int2, packed, 5), levels));
}

// min 0, max 3 over 4 values: scale 1, zero 0, levels equal the values.
TEST(IntegerFormatLevelsTest, AsymmetricInt2ByHand) {
  const IntegerFormat int2{2, false, at::kFloat};
  const at::Tensor x = at::tensor({0.0f, 1.0f, 2.0f, 3.0f, 1.4f, 1.6f}).view({1, 6});
  ASSERT_OK_AND_ASSIGN(QuantizedGroups q, QuantizeGroups(int2, x));
  EXPECT_FLOAT_EQ(q.scale.item<float>(), 1.0f);
  EXPECT_TRUE(at::equal(q.levels, at::tensor({0, 1, 2, 3, 1, 2}, at::kByte).view({1, 6})));
}

// ggml's q4_1 rounds half up ((x - min) / d + 0.5, truncated); the stored rule rounds
// half to even. min 0, max 15: d 1, so 2.5 and 4.5 sit on ties.
TEST(IntegerFormatGgmlTest, Q41RoundsHalfUpFromTheFp32MinAndScale) {
  IntegerFormat q4_1{4, false, at::kHalf};
  q4_1.rounding = IntegerFormat::Rounding::kGgml;
  const at::Tensor x = at::tensor({0.0f, 2.5f, 4.5f, 15.0f}).view({1, 4});
  ASSERT_OK_AND_ASSIGN(QuantizedGroups q, QuantizeGroups(q4_1, x));
  EXPECT_TRUE(at::equal(q.levels, at::tensor({0, 3, 5, 15}, at::kByte).view({1, 4})));
  EXPECT_EQ(q.scale.item<float>(), 1.0f);
  EXPECT_EQ(q.zero.item<float>(), 0.0f);
  ASSERT_OK_AND_ASSIGN(QuantizedGroups stored, QuantizeGroups({4, false, at::kHalf}, x));
  EXPECT_TRUE(at::equal(stored.levels, at::tensor({0, 2, 4, 15}, at::kByte).view({1, 4})));
  // min -1, max 2: d = 0.2 in fp32 for the levels ((0.49 + 1) * 5 + 0.5 = 7.95 -> 7),
  // stored as fp16(0.2) and fp16(-1).
  const at::Tensor y = at::tensor({-1.0f, 0.49f, 2.0f}).view({1, 3});
  ASSERT_OK_AND_ASSIGN(QuantizedGroups r, QuantizeGroups(q4_1, y));
  EXPECT_TRUE(at::equal(r.levels, at::tensor({0, 7, 15}, at::kByte).view({1, 3})));
  EXPECT_EQ(r.scale.item<float>(), static_cast<float>(c10::Half(0.2f)));
  EXPECT_EQ(r.zero.item<float>(), -1.0f);
}

// q4_0: d = m / -8 with m the first value of largest magnitude, sign kept; level
// floor(x / d + 8.5) capped at 15, read back as (level - 8) * d.
TEST(IntegerFormatGgmlTest, Q40ScalesByTheFirstSignedMaximum) {
  IntegerFormat q4_0{4, true, at::kHalf};
  q4_0.rounding = IntegerFormat::Rounding::kGgml;
  // m = -4: d = 0.5, levels (x * 2 + 8.5) floored, all exact on the way back.
  const at::Tensor x = at::tensor({-4.0f, 1.0f, 2.0f, 3.0f}).view({1, 4});
  ASSERT_OK_AND_ASSIGN(QuantizedGroups q, QuantizeGroups(q4_0, x));
  EXPECT_EQ(q.scale.item<float>(), 0.5f);
  EXPECT_TRUE(at::equal(q.levels, at::tensor({0, 10, 12, 14}, at::kByte).view({1, 4})));
  EXPECT_TRUE(at::equal(DequantizeLevels(q4_0, q.levels, q.scale, q.zero), x));
  // m = +4: d = -0.5 (a negative scale); -4 would be level 16, capped at 15 (3.5).
  const at::Tensor y = at::tensor({4.0f, -1.0f, -4.0f}).view({1, 3});
  ASSERT_OK_AND_ASSIGN(QuantizedGroups r, QuantizeGroups(q4_0, y));
  EXPECT_EQ(r.scale.item<float>(), -0.5f);
  EXPECT_TRUE(at::equal(r.levels, at::tensor({0, 10, 15}, at::kByte).view({1, 3})));
  EXPECT_TRUE(at::equal(DequantizeLevels(q4_0, r.levels, r.scale, r.zero),
                        at::tensor({4.0f, -1.0f, -3.5f}).view({1, 3})));
  // Equal magnitudes: the first decides the sign.
  ASSERT_OK_AND_ASSIGN(QuantizedGroups first_negative,
                       QuantizeGroups(q4_0, at::tensor({-3.0f, 3.0f}).view({1, 2})));
  EXPECT_EQ(first_negative.scale.item<float>(), 0.375f);
  ASSERT_OK_AND_ASSIGN(QuantizedGroups first_positive,
                       QuantizeGroups(q4_0, at::tensor({3.0f, -3.0f}).view({1, 2})));
  EXPECT_EQ(first_positive.scale.item<float>(), -0.375f);
}

TEST(IntegerFormatLevelsTest, AsymmetricInt4ByHand) {
  const IntegerFormat int4{4, false, at::kFloat};
  // min 0, max 15: scale 1, zero 0, levels equal the values.
  const at::Tensor x = at::arange(16, at::kFloat).unsqueeze(0);
  ASSERT_OK_AND_ASSIGN(QuantizedGroups q, QuantizeGroups(int4, x));
  EXPECT_FLOAT_EQ(q.scale.item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(q.zero.item<float>(), 0.0f);
  EXPECT_TRUE(at::equal(q.levels.to(at::kLong), x.to(at::kLong)));
}

TEST(IntegerFormatLevelsTest, SymmetricInt8ByHand) {
  const IntegerFormat int8{8, true, at::kFloat};
  const at::Tensor x = at::tensor({-127.0f, 0.0f, 63.4f, 127.0f}).unsqueeze(0);
  ASSERT_OK_AND_ASSIGN(QuantizedGroups q, QuantizeGroups(int8, x));
  EXPECT_FLOAT_EQ(q.scale.item<float>(), 1.0f);
  EXPECT_FALSE(q.zero.defined());
  EXPECT_TRUE(at::equal(q.levels[0].to(at::kLong), at::tensor({1, 128, 191, 255}, at::kLong)));
}

}  // namespace
}  // namespace kvlab::kernels
