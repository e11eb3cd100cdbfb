#include "eval/gguf/dequantize.h"

#include <c10/util/Half.h>

#include <cstring>
#include <vector>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::gguf {
namespace {

using ::testing::HasSubstr;

void PutHalf(std::vector<uint8_t>& out, float value) {
  const uint16_t bits = c10::Half(value).x;
  out.push_back(bits & 0xFF);
  out.push_back(bits >> 8);
}

std::vector<float> Dequantize(TensorType type, const std::vector<uint8_t>& bytes, size_t n) {
  std::vector<float> out(n, -12345.0f);
  EXPECT_THAT(DequantizeToFloat(type, bytes, absl::MakeSpan(out)), IsOk());
  return out;
}

TEST(DequantizeTest, Q8_0BlockByHand) {
  std::vector<uint8_t> block;
  PutHalf(block, 0.5f);
  for (int i = 0; i < 32; ++i) block.push_back(static_cast<uint8_t>(static_cast<int8_t>(i - 16)));
  const std::vector<float> x = Dequantize(TensorType::kQ8_0, block, 32);
  EXPECT_EQ(x[0], -8.0f);   // 0.5 * -16
  EXPECT_EQ(x[16], 0.0f);   // 0.5 * 0
  EXPECT_EQ(x[31], 7.5f);   // 0.5 * 15
}

TEST(DequantizeTest, Q4_0BlockByHand) {
  std::vector<uint8_t> block;
  PutHalf(block, 2.0f);
  // Byte i holds element i (low nibble) and element i + 16 (high nibble).
  for (int i = 0; i < 16; ++i) block.push_back(static_cast<uint8_t>((15 - i) << 4 | i));
  const std::vector<float> x = Dequantize(TensorType::kQ4_0, block, 32);
  EXPECT_EQ(x[0], -16.0f);  // 2 * (0 - 8)
  EXPECT_EQ(x[8], 0.0f);    // 2 * (8 - 8)
  EXPECT_EQ(x[15], 14.0f);  // 2 * (15 - 8)
  EXPECT_EQ(x[16], 14.0f);  // high nibble of byte 0 is 15
  EXPECT_EQ(x[31], -16.0f); // high nibble of byte 15 is 0
}

TEST(DequantizeTest, Q4_1BlockByHand) {
  std::vector<uint8_t> block;
  PutHalf(block, 0.25f);  // d
  PutHalf(block, -1.0f);  // m
  for (int i = 0; i < 16; ++i) block.push_back(static_cast<uint8_t>(3 << 4 | i));
  const std::vector<float> x = Dequantize(TensorType::kQ4_1, block, 32);
  EXPECT_EQ(x[0], -1.0f);    // 0.25 * 0 - 1
  EXPECT_EQ(x[15], 2.75f);   // 0.25 * 15 - 1
  EXPECT_EQ(x[16], -0.25f);  // 0.25 * 3 - 1
}

TEST(DequantizeTest, TwoBlocksUseTheirOwnScales) {
  std::vector<uint8_t> bytes;
  for (float d : {1.0f, 3.0f}) {
    PutHalf(bytes, d);
    for (int i = 0; i < 32; ++i) bytes.push_back(1);
  }
  const std::vector<float> x = Dequantize(TensorType::kQ8_0, bytes, 64);
  EXPECT_EQ(x[31], 1.0f);
  EXPECT_EQ(x[32], 3.0f);
}

TEST(DequantizeTest, HalfAndBFloat16) {
  std::vector<uint8_t> half;
  PutHalf(half, -0.125f);
  EXPECT_EQ(Dequantize(TensorType::kF16, half, 1)[0], -0.125f);
  // bfloat16 of 1.5 is the top half of float 1.5 (0x3FC00000).
  const std::vector<uint8_t> bf16 = {0xC0, 0x3F};
  EXPECT_EQ(Dequantize(TensorType::kBF16, bf16, 1)[0], 1.5f);
  std::vector<uint8_t> f32(4);
  const float v = 3.25f;
  std::memcpy(f32.data(), &v, 4);
  EXPECT_EQ(Dequantize(TensorType::kF32, f32, 1)[0], 3.25f);
}

TEST(DequantizeTest, UnsupportedTypeIsUnimplemented) {
  std::vector<float> out(256);
  EXPECT_THAT(DequantizeToFloat(TensorType::kQ8_K, std::vector<uint8_t>(292), absl::MakeSpan(out)),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("Q8_K")));
}

// The message lists every type that loads, K-quants and Q5 included.
TEST(DequantizeTest, TheSupportedListIsEveryDequantizableType) {
  EXPECT_EQ(DequantizableTypeNames(),
            "F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, BF16");
  std::vector<float> out(256);
  EXPECT_THAT(DequantizeToFloat(TensorType::kQ8_K, std::vector<uint8_t>(292), absl::MakeSpan(out)),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("(supported: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, "
                                 "Q4_K, Q5_K, Q6_K, BF16)")));
}

TEST(DequantizeTest, TruncatedSuperBlockIsInvalidArgument) {
  std::vector<float> out(256);
  EXPECT_THAT(DequantizeToFloat(TensorType::kQ4_K, std::vector<uint8_t>(143), absl::MakeSpan(out)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Q4_K: 143 bytes cannot hold exactly 256 elements")));
}

TEST(DequantizeTest, SizeMismatchIsInvalidArgument) {
  std::vector<float> out(32);
  EXPECT_THAT(DequantizeToFloat(TensorType::kQ4_1, std::vector<uint8_t>(19), absl::MakeSpan(out)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("19 bytes")));
}

TEST(DequantizeTest, EmptySpansAreFine) {
  for (TensorType type : {TensorType::kF32, TensorType::kF16, TensorType::kQ4_1}) {
    EXPECT_THAT(DequantizeToFloat(type, {}, {}), IsOk());
  }
}

}  // namespace
}  // namespace kvlab::gguf
