#include "eval/gguf/block_dequantizers.h"

#include <c10/util/Half.h>

#include <cstring>

namespace kvlab::gguf {

namespace {

constexpr int kSuperBlock = 256;

float LoadHalf(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, sizeof(bits));
  return static_cast<float>(c10::Half(bits, c10::Half::from_bits()));
}

uint32_t LoadUint32(const uint8_t* p) {
  // GGUF is little-endian; so is every machine kvlab builds for.
  uint32_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

// Q4_K and Q5_K pack eight 6-bit scales and eight 6-bit mins into 12 bytes: bytes 0-3
// hold scales 0-3 (low 6 bits) and the top 2 bits of scales 4-7; bytes 4-7 the same
// for the mins; bytes 8-11 the low 4 bits of scales 4-7 (low nibble) and mins 4-7
// (high nibble).
void ScaleAndMinK4(int j, const uint8_t* packed, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = packed[j] & 63;
    *min = packed[j + 4] & 63;
  } else {
    *scale = (packed[j + 4] & 0x0F) | ((packed[j - 4] >> 6) << 4);
    *min = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
  }
}

// Q3_K packs sixteen 6-bit scales into 12 bytes: the low 4 bits of scale k are the
// low (k < 8) or high (k >= 8) nibble of byte k % 8; its top 2 bits are bits
// 2*(k/4) .. 2*(k/4)+1 of byte 8 + k % 4. Stored with an offset of 32.
int ScaleQ3_K(int k, const uint8_t* packed) {
  const int low = k < 8 ? (packed[k] & 0x0F) : (packed[k - 8] >> 4);
  const int high = (packed[8 + k % 4] >> (2 * (k / 4))) & 3;
  return (low | high << 4) - 32;
}

}  // namespace

void DequantizeQ5_0Block(const uint8_t* src, float* dst) {
  const float d = LoadHalf(src);
  const uint32_t qh = LoadUint32(src + 2);
  const uint8_t* qs = src + 6;
  for (int j = 0; j < 16; ++j) {
    const int high0 = ((qh >> j) << 4) & 0x10;
    const int high1 = (qh >> (j + 12)) & 0x10;
    dst[j] = static_cast<float>(((qs[j] & 0x0F) | high0) - 16) * d;
    dst[j + 16] = static_cast<float>(((qs[j] >> 4) | high1) - 16) * d;
  }
}

void DequantizeQ5_1Block(const uint8_t* src, float* dst) {
  const float d = LoadHalf(src);
  const float m = LoadHalf(src + 2);
  const uint32_t qh = LoadUint32(src + 4);
  const uint8_t* qs = src + 8;
  for (int j = 0; j < 16; ++j) {
    const int high0 = ((qh >> j) << 4) & 0x10;
    const int high1 = (qh >> (j + 12)) & 0x10;
    dst[j] = static_cast<float>((qs[j] & 0x0F) | high0) * d + m;
    dst[j + 16] = static_cast<float>((qs[j] >> 4) | high1) * d + m;
  }
}

void DequantizeQ2_KBlock(const uint8_t* src, float* dst) {
  const uint8_t* scales = src;
  const uint8_t* q = src + 16;
  const float d = LoadHalf(src + 80);
  const float dmin = LoadHalf(src + 82);
  int is = 0;
  // Two halves of 128; in each, four 2-bit planes of 32 bytes, each plane two
  // sub-blocks of 16 with their own scale and min.
  for (int half = 0; half < 2; ++half, q += 32) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int part = 0; part < 2; ++part) {
        const uint8_t sc = scales[is++];
        const float dl = d * static_cast<float>(sc & 0x0F);
        const float ml = dmin * static_cast<float>(sc >> 4);
        for (int l = 0; l < 16; ++l) {
          *dst++ = dl * static_cast<float>((q[16 * part + l] >> shift) & 3) - ml;
        }
      }
    }
  }
}

void DequantizeQ3_KBlock(const uint8_t* src, float* dst) {
  const uint8_t* hmask = src;
  const uint8_t* q = src + 32;
  const uint8_t* packed_scales = src + 96;
  const float d = LoadHalf(src + 108);
  int is = 0;
  uint8_t bit = 1;  // Which hmask bit holds the current plane's high bit.
  for (int half = 0; half < 2; ++half, q += 32) {
    for (int shift = 0; shift < 8; shift += 2, bit <<= 1) {
      for (int part = 0; part < 2; ++part) {
        const float dl = d * static_cast<float>(ScaleQ3_K(is++, packed_scales));
        for (int l = 0; l < 16; ++l) {
          const int i = 16 * part + l;
          // A clear high bit means the value is 4 lower (levels -4 .. 3).
          const int value = ((q[i] >> shift) & 3) - ((hmask[i] & bit) ? 0 : 4);
          *dst++ = dl * static_cast<float>(value);
        }
      }
    }
  }
}

void DequantizeQ4_KBlock(const uint8_t* src, float* dst) {
  const float d = LoadHalf(src);
  const float dmin = LoadHalf(src + 2);
  const uint8_t* packed = src + 4;
  const uint8_t* q = src + 16;
  for (int j = 0; j < kSuperBlock / 64; ++j, q += 32) {
    uint8_t sc, m;
    ScaleAndMinK4(2 * j, packed, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    ScaleAndMinK4(2 * j + 1, packed, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) *dst++ = d1 * static_cast<float>(q[l] & 0x0F) - m1;
    for (int l = 0; l < 32; ++l) *dst++ = d2 * static_cast<float>(q[l] >> 4) - m2;
  }
}

void DequantizeQ5_KBlock(const uint8_t* src, float* dst) {
  const float d = LoadHalf(src);
  const float dmin = LoadHalf(src + 2);
  const uint8_t* packed = src + 4;
  const uint8_t* qh = src + 16;
  const uint8_t* ql = src + 48;
  uint8_t bit1 = 1, bit2 = 2;  // qh bits holding the fifth bit of the two sub-blocks.
  for (int j = 0; j < kSuperBlock / 64; ++j, ql += 32, bit1 <<= 2, bit2 <<= 2) {
    uint8_t sc, m;
    ScaleAndMinK4(2 * j, packed, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    ScaleAndMinK4(2 * j + 1, packed, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) {
      *dst++ = d1 * static_cast<float>((ql[l] & 0x0F) + ((qh[l] & bit1) ? 16 : 0)) - m1;
    }
    for (int l = 0; l < 32; ++l) {
      *dst++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & bit2) ? 16 : 0)) - m2;
    }
  }
}

void DequantizeQ6_KBlock(const uint8_t* src, float* dst) {
  const uint8_t* ql = src;
  const uint8_t* qh = src + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(src + 192);
  const float d = LoadHalf(src + 208);
  // Two halves of 128 elements; element l + 32*p of a half takes its low nibble from
  // ql (byte l or l + 32, low or high nibble) and its top 2 bits from bits 2p, 2p+1
  // of qh[l].
  for (int half = 0; half < 2; ++half, dst += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      dst[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
      dst[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      dst[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      dst[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
  }
}

}  // namespace kvlab::gguf
