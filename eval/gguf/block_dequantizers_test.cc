// Hand-built blocks of each quantized type, with values worked out from the layouts
// documented in block_dequantizers.h.
#include "eval/gguf/block_dequantizers.h"

#include <c10/util/Half.h>

#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace kvlab::gguf {
namespace {

void SetHalf(std::vector<uint8_t>& block, int offset, float value) {
  const uint16_t bits = c10::Half(value).x;
  std::memcpy(block.data() + offset, &bits, sizeof(bits));
}

TEST(BlockDequantizersTest, Q5_0) {
  std::vector<uint8_t> block(22, 0);
  SetHalf(block, 0, 0.5f);
  block[2] = 0x01;  // qh bit 0: the fifth bit of element 0.
  block[4] = 0x01;  // qh bit 16: the fifth bit of element 16.
  block[6 + 0] = 0x13;  // Element 0 low nibble 3, element 16 low nibble 1.
  std::vector<float> x(32);
  DequantizeQ5_0Block(block.data(), x.data());
  EXPECT_EQ(x[0], 1.5f);    // 0.5 * ((3 | 16) - 16)
  EXPECT_EQ(x[16], 0.5f);   // 0.5 * ((1 | 16) - 16)
  EXPECT_EQ(x[1], -8.0f);   // 0.5 * (0 - 16)
  EXPECT_EQ(x[17], -8.0f);
}

TEST(BlockDequantizersTest, Q5_1) {
  std::vector<uint8_t> block(24, 0);
  SetHalf(block, 0, 0.25f);  // d
  SetHalf(block, 2, 1.0f);   // m
  block[7] = 0x80;           // qh bit 31: the fifth bit of element 31.
  block[8 + 15] = 0xF0;      // Element 15 low nibble 0, element 31 low nibble 15.
  std::vector<float> x(32);
  DequantizeQ5_1Block(block.data(), x.data());
  EXPECT_EQ(x[15], 1.0f);   // 0.25 * 0 + 1
  EXPECT_EQ(x[31], 8.75f);  // 0.25 * (15 | 16) + 1
  EXPECT_EQ(x[0], 1.0f);
}

TEST(BlockDequantizersTest, Q2_K) {
  std::vector<uint8_t> block(84, 0);
  uint8_t* scales = block.data();
  uint8_t* qs = block.data() + 16;
  SetHalf(block, 80, 1.0f);  // d
  SetHalf(block, 82, 0.5f);  // dmin
  scales[0] = 0x23;   // Sub-block 0: scale 3, min 2.
  scales[1] = 0x01;   // Sub-block 1: scale 1, min 0.
  scales[2] = 0x05;   // Sub-block 2 (second 2-bit plane of qs[0..15]): scale 5.
  scales[8] = 0x12;   // Sub-block 8 (first plane of the second half): scale 2, min 1.
  scales[15] = 0x42;  // Last sub-block: scale 2, min 4.
  qs[0] = 0xE4;       // Planes 0, 1, 2, 3 of byte 0 hold 0, 1, 2, 3.
  qs[16] = 0x03;
  qs[32] = 0x02;
  qs[63] = 0xC0;      // Plane 3 of the last byte holds 3.
  std::vector<float> x(256);
  DequantizeQ2_KBlock(block.data(), x.data());
  EXPECT_EQ(x[0], -1.0f);    // 3 * 0 - 0.5 * 2
  EXPECT_EQ(x[16], 3.0f);    // 1 * 3 - 0
  EXPECT_EQ(x[32], 5.0f);    // 5 * 1 - 0
  EXPECT_EQ(x[128], 3.5f);   // 2 * 2 - 0.5 * 1
  EXPECT_EQ(x[255], 4.0f);   // 2 * 3 - 0.5 * 4
}

TEST(BlockDequantizersTest, Q3_K) {
  std::vector<uint8_t> block(110, 0);
  uint8_t* hmask = block.data();
  uint8_t* qs = block.data() + 32;
  uint8_t* scales = block.data() + 96;
  SetHalf(block, 108, 0.5f);
  scales[0] = 0x01;  // Scale 0 low bits 1 (scale 8's low bits 0).
  scales[8] = 0x02;  // Scale 0 high bits 2: (1 | 2 << 4) - 32 = 1.
  scales[1] = 0xF0;  // Scale 1 low bits 0, scale 9 low bits 15.
  scales[9] = 0x30;  // Scale 9 high bits 3 (bits 4-5): (15 | 3 << 4) - 32 = 31.
  qs[0] = 0x03;
  hmask[0] = 0x01;   // Element 0: high bit set, value 3.
  qs[1] = 0x03;      // Element 1: high bit clear, value 3 - 4.
  qs[48] = 0x02;     // Element 144 (second half, first plane, sub-block 9).
  hmask[16] = 0x10;  // Its high bit is hmask bit 4 (the fifth plane overall).
  std::vector<float> x(256);
  DequantizeQ3_KBlock(block.data(), x.data());
  EXPECT_EQ(x[0], 1.5f);     // 0.5 * 1 * 3
  EXPECT_EQ(x[1], -0.5f);    // 0.5 * 1 * (3 - 4)
  EXPECT_EQ(x[16], 64.0f);   // 0.5 * (0 - 32) * (0 - 4)
  EXPECT_EQ(x[144], 31.0f);  // 0.5 * 31 * 2
}

TEST(BlockDequantizersTest, Q4_K) {
  std::vector<uint8_t> block(144, 0);
  uint8_t* scales = block.data() + 4;
  uint8_t* qs = block.data() + 16;
  SetHalf(block, 0, 1.0f);   // d
  SetHalf(block, 2, 0.25f);  // dmin
  scales[0] = 0x85;  // Scale 0 = 5; top bits of scale 4 = 2.
  scales[4] = 0x43;  // Min 0 = 3; top bits of min 4 = 1.
  scales[8] = 0x21;  // Scale 4 low bits 1, min 4 low bits 2: scale 33, min 18.
  qs[0] = 0x07;      // Element 0 = 7, element 32 = 0.
  qs[64] = 0x0A;     // Element 128 (sub-block 4) = 10.
  std::vector<float> x(256);
  DequantizeQ4_KBlock(block.data(), x.data());
  EXPECT_EQ(x[0], 34.25f);    // 1 * 5 * 7 - 0.25 * 3
  EXPECT_EQ(x[32], 0.0f);     // Scale 1 and min 1 are 0.
  EXPECT_EQ(x[128], 325.5f);  // 33 * 10 - 0.25 * 18
  EXPECT_EQ(x[1], -0.75f);    // 5 * 0 - 0.25 * 3
}

TEST(BlockDequantizersTest, Q5_K) {
  std::vector<uint8_t> block(176, 0);
  uint8_t* scales = block.data() + 4;
  uint8_t* qh = block.data() + 16;
  uint8_t* ql = block.data() + 48;
  SetHalf(block, 0, 0.5f);  // d
  SetHalf(block, 2, 1.0f);  // dmin
  scales[0] = 0x02;  // Scale 0 = 2.
  scales[4] = 0x01;  // Min 0 = 1.
  scales[1] = 0x03;  // Scale 1 = 3 (min 1 = 0).
  ql[0] = 0x03;      // Element 0 low bits 3, element 32 low bits 0.
  qh[0] = 0x03;      // Fifth bits of element 0 (bit 0) and element 32 (bit 1).
  ql[1] = 0x03;      // Element 1 low bits 3, no fifth bit.
  std::vector<float> x(256);
  DequantizeQ5_KBlock(block.data(), x.data());
  EXPECT_EQ(x[0], 18.0f);   // 0.5 * 2 * (3 + 16) - 1 * 1
  EXPECT_EQ(x[1], 2.0f);    // 0.5 * 2 * 3 - 1
  EXPECT_EQ(x[32], 24.0f);  // 0.5 * 3 * 16 - 0
  EXPECT_EQ(x[64], 0.0f);   // Scale 2 and min 2 are 0.
}

TEST(BlockDequantizersTest, Q6_K) {
  std::vector<uint8_t> block(210, 0);
  uint8_t* ql = block.data();
  uint8_t* qh = block.data() + 128;
  int8_t* sc = reinterpret_cast<int8_t*>(block.data() + 192);
  SetHalf(block, 208, 0.25f);
  sc[0] = 2;
  sc[2] = -1;
  sc[4] = 4;
  sc[6] = 1;
  sc[8] = 3;
  ql[0] = 0xA1;   // Element 0 low bits 1, element 64 low bits 10.
  ql[32] = 0x07;  // Element 32 low bits 7, element 96 low bits 0.
  qh[0] = 0xD8;   // Top bits of elements 0, 32, 64, 96: 0, 2, 1, 3.
  ql[64] = 0x0F;  // Element 128 (second half) low bits 15.
  std::vector<float> x(256);
  DequantizeQ6_KBlock(block.data(), x.data());
  EXPECT_EQ(x[0], -15.5f);    // 0.25 * 2 * (1 - 32)
  EXPECT_EQ(x[32], -1.75f);   // 0.25 * -1 * ((7 | 2 << 4) - 32)
  EXPECT_EQ(x[64], -6.0f);    // 0.25 * 4 * ((10 | 1 << 4) - 32)
  EXPECT_EQ(x[96], 4.0f);     // 0.25 * 1 * ((0 | 3 << 4) - 32)
  EXPECT_EQ(x[16], 0.0f);     // Scale 1 is 0.
  EXPECT_EQ(x[128], -12.75f); // 0.25 * 3 * (15 - 32)
}

}  // namespace
}  // namespace kvlab::gguf
