// Per-block decoders for ggml's quantized tensor types, one function per type.
//
// Each reads one block of `src` (the type's block_bytes, see gguf_types.h) and writes
// its block_elements floats to `dst`. The layouts and the arithmetic, including the
// order of the float operations, are those of ggml's reference dequantizers, so the
// values are bit-identical to what llama.cpp computes:
//
//   Q5_0  (32 elements, 22 bytes): fp16 d, uint8 qh[4], uint8 qs[16]
//         x = d * (q - 16), q = nibble | (high bit from qh) << 4
//   Q5_1  (32 elements, 24 bytes): fp16 d, fp16 m, uint8 qh[4], uint8 qs[16]
//         x = d * q + m
//   K-quants: super-blocks of 256 elements split into sub-blocks of 16 or 32, each
//   with its own scale (and min) quantized against the super-block's fp16 d (dmin):
//   Q2_K  (84 bytes):  uint8 scales[16] (4-bit scale | 4-bit min), uint8 qs[64]
//                      (2-bit), fp16 d, fp16 dmin; x = d*sc * q - dmin*m
//   Q3_K  (110 bytes): uint8 hmask[32] (high bit), uint8 qs[64] (low 2 bits),
//                      uint8 scales[12] (16 6-bit scales), fp16 d; x = d*(sc-32) * (q-4)
//   Q4_K  (144 bytes): fp16 d, fp16 dmin, uint8 scales[12] (8 6-bit scales and mins),
//                      uint8 qs[128] (4-bit); x = d*sc * q - dmin*m
//   Q5_K  (176 bytes): as Q4_K plus uint8 qh[32] (fifth bit) before qs
//   Q6_K  (210 bytes): uint8 ql[128] (low 4 bits), uint8 qh[64] (high 2 bits),
//                      int8 scales[16], fp16 d; x = d * sc * (q - 32)
#ifndef KVLAB_EVAL_GGUF_BLOCK_DEQUANTIZERS_H_
#define KVLAB_EVAL_GGUF_BLOCK_DEQUANTIZERS_H_

#include <cstdint>

namespace kvlab::gguf {

void DequantizeQ5_0Block(const uint8_t* src, float* dst);
void DequantizeQ5_1Block(const uint8_t* src, float* dst);
void DequantizeQ2_KBlock(const uint8_t* src, float* dst);
void DequantizeQ3_KBlock(const uint8_t* src, float* dst);
void DequantizeQ4_KBlock(const uint8_t* src, float* dst);
void DequantizeQ5_KBlock(const uint8_t* src, float* dst);
void DequantizeQ6_KBlock(const uint8_t* src, float* dst);

}  // namespace kvlab::gguf

#endif  // KVLAB_EVAL_GGUF_BLOCK_DEQUANTIZERS_H_
