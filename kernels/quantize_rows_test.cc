#include "kernels/quantize_rows.h"

#include <ATen/ATen.h>

#include <limits>

#include "absl/strings/str_format.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/integer_format.h"
#include "kernels/kernel_test_util.h"

namespace kvlab::kernels {
namespace {

class QuantizeRowsTest : public ::testing::TestWithParam<IntegerFormat> {};

// The kernel stores exactly what the ATen reference quantizer stores.
TEST_P(QuantizeRowsTest, TokenGroupsEqualTheReference) {
  testing::FreshSeed();
  const IntegerFormat format = GetParam();
  for (int64_t dim : {64, 6}) {
    for (int64_t group : {dim, dim / 2, int64_t{1}}) {
      const at::Tensor x = at::randn({3, 9, dim}) * 3.0;
      absl::StatusOr<QuantizedTokens> got =
          QuantizeTokenGroups(x, group, format);
      ASSERT_THAT(got, IsOk());
      ASSERT_OK_AND_ASSIGN(QuantizedGroups want,
                           QuantizeGroups(format, x.unflatten(-1, {dim / group, group})));
      const std::string where = absl::StrFormat("dim %d group %d", dim, group);
      EXPECT_TRUE(at::equal(got->levels, PackLevels(format, want.levels.flatten(-2)))) << where;
      EXPECT_TRUE(at::equal(got->scale, want.scale.squeeze(-1))) << where;
      if (!format.symmetric) {
        EXPECT_TRUE(at::equal(got->zero, want.zero.squeeze(-1))) << where;
      }
    }
  }
}

TEST_P(QuantizeRowsTest, ChannelBlockEqualsTheReference) {
  testing::FreshSeed();
  const IntegerFormat format = GetParam();
  for (int64_t dim : {64, 7}) {
    const at::Tensor x = at::randn({3, 32, dim}) + at::arange(dim, at::kFloat);
    absl::StatusOr<QuantizedTokens> got = QuantizeChannelBlock(x, format);
    ASSERT_THAT(got, IsOk());
    ASSERT_OK_AND_ASSIGN(QuantizedGroups want, QuantizeGroups(format, x.transpose(1, 2)));
    EXPECT_TRUE(at::equal(got->levels,
                          PackLevels(format, want.levels.transpose(1, 2).contiguous())))
        << "dim " << dim;
    EXPECT_TRUE(at::equal(got->scale, want.scale.transpose(1, 2)));
    if (!format.symmetric) {
      EXPECT_TRUE(at::equal(got->zero, want.zero.transpose(1, 2)));
    }
  }
}

TEST_P(QuantizeRowsTest, ConstantGroupsHaveScaleZero) {
  const IntegerFormat format = GetParam();
  absl::StatusOr<QuantizedTokens> zeros = QuantizeTokenGroups(at::zeros({1, 2, 8}), 8, format);
  ASSERT_THAT(zeros, IsOk());
  EXPECT_EQ(zeros->scale.to(at::kFloat).abs().max().item<float>(), 0.0f);
}

// Refusing NaN and Inf is the stores' job, once per append (quant/quantized_store_test.cc);
// the kernel given one still returns levels, scales and zeros of the right shapes.
TEST_P(QuantizeRowsTest, NonFiniteInputIsQuantizedWithoutFailing) {
  const IntegerFormat format = GetParam();
  at::Tensor x = at::randn({1, 2, 8});
  x[0][1][2] = std::numeric_limits<float>::infinity();
  x[0][0][3] = std::numeric_limits<float>::quiet_NaN();
  const absl::StatusOr<QuantizedTokens> q = QuantizeTokenGroups(x, 8, format);
  ASSERT_THAT(q, IsOk());
  EXPECT_EQ(q->levels.sizes(), (std::vector<int64_t>{1, 2, format.PackedBytes(8)}));
  EXPECT_EQ(q->scale.sizes(), (std::vector<int64_t>{1, 2, 1}));
}

INSTANTIATE_TEST_SUITE_P(
    Formats, QuantizeRowsTest,
    ::testing::Values(IntegerFormat{8, false, at::kFloat}, IntegerFormat{8, true, at::kFloat},
                      IntegerFormat{4, false, at::kFloat}, IntegerFormat{4, true, at::kBFloat16},
                      IntegerFormat{4, false, at::kHalf}, IntegerFormat{8, false, at::kBFloat16},
                      IntegerFormat{2, false, at::kFloat}, IntegerFormat{2, true, at::kHalf},
                      testing::GgmlQ4(false), testing::GgmlQ4(true)),
    testing::FormatTestName);

}  // namespace
}  // namespace kvlab::kernels
