#include "eval/gguf/dequantize.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "eval/gguf/block_dequantizers.h"

namespace kvlab::gguf {

namespace {

constexpr int kBlock = 32;

float LoadHalf(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, sizeof(bits));
  return static_cast<float>(c10::Half(bits, c10::Half::from_bits()));
}

float LoadBFloat16(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, sizeof(bits));
  return static_cast<float>(c10::BFloat16(bits, c10::BFloat16::from_bits()));
}

void DequantizeQ8_0(const uint8_t* block, float* out) {
  const float d = LoadHalf(block);
  const int8_t* q = reinterpret_cast<const int8_t*>(block + 2);
  for (int i = 0; i < kBlock; ++i) out[i] = d * static_cast<float>(q[i]);
}

void DequantizeQ4_0(const uint8_t* block, float* out) {
  const float d = LoadHalf(block);
  const uint8_t* qs = block + 2;
  for (int i = 0; i < kBlock / 2; ++i) {
    out[i] = d * static_cast<float>((qs[i] & 0x0F) - 8);
    out[i + kBlock / 2] = d * static_cast<float>((qs[i] >> 4) - 8);
  }
}

void DequantizeQ4_1(const uint8_t* block, float* out) {
  const float d = LoadHalf(block);
  const float m = LoadHalf(block + 2);
  const uint8_t* qs = block + 4;
  for (int i = 0; i < kBlock / 2; ++i) {
    out[i] = d * static_cast<float>(qs[i] & 0x0F) + m;
    out[i + kBlock / 2] = d * static_cast<float>(qs[i] >> 4) + m;
  }
}

// The decoder of one block of a quantized type, or nullptr for the element types
// (F32, F16, BF16) and the types kvlab cannot dequantize.
using BlockDequantizer = void (*)(const uint8_t* src, float* dst);

BlockDequantizer BlockDequantizerFor(TensorType type) {
  switch (type) {
    case TensorType::kQ8_0: return DequantizeQ8_0;
    case TensorType::kQ4_0: return DequantizeQ4_0;
    case TensorType::kQ4_1: return DequantizeQ4_1;
    case TensorType::kQ5_0: return DequantizeQ5_0Block;
    case TensorType::kQ5_1: return DequantizeQ5_1Block;
    case TensorType::kQ2_K: return DequantizeQ2_KBlock;
    case TensorType::kQ3_K: return DequantizeQ3_KBlock;
    case TensorType::kQ4_K: return DequantizeQ4_KBlock;
    case TensorType::kQ5_K: return DequantizeQ5_KBlock;
    case TensorType::kQ6_K: return DequantizeQ6_KBlock;
    default: return nullptr;
  }
}

}  // namespace

bool IsDequantizable(TensorType type) {
  return type == TensorType::kF32 || type == TensorType::kF16 || type == TensorType::kBF16 ||
         BlockDequantizerFor(type) != nullptr;
}

std::string DequantizableTypeNames() {
  std::vector<std::string> names;
  for (uint32_t id = 0; id < 64; ++id) {
    const std::optional<TensorTypeTraits> traits = GetTensorTypeTraits(id);
    if (traits.has_value() && IsDequantizable(static_cast<TensorType>(id))) {
      names.push_back(traits->name);
    }
  }
  return absl::StrJoin(names, ", ");
}

absl::Status DequantizeToFloat(TensorType type, absl::Span<const uint8_t> src,
                               absl::Span<float> dst) {
  const std::optional<TensorTypeTraits> traits = GetTensorTypeTraits(static_cast<uint32_t>(type));
  if (!traits.has_value() || !IsDequantizable(type)) {
    return absl::UnimplementedError(absl::StrFormat(
        "cannot dequantize tensor type %s (supported: %s)",
        traits.has_value() ? traits->name : "unknown", DequantizableTypeNames()));
  }
  const int64_t n = static_cast<int64_t>(dst.size());
  if (n % traits->block_elements != 0 ||
      static_cast<int64_t>(src.size()) != n / traits->block_elements * traits->block_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %d bytes cannot hold exactly %d elements (blocks of %d elements in %d bytes)",
        traits->name, src.size(), n, traits->block_elements, traits->block_bytes));
  }
  // Empty spans may carry null pointers, which memcpy must never see.
  if (n == 0) return absl::OkStatus();
  const uint8_t* in = src.data();
  float* out = dst.data();
  switch (type) {
    case TensorType::kF32:
      std::memcpy(out, in, n * sizeof(float));
      return absl::OkStatus();
    case TensorType::kF16:
      for (int64_t i = 0; i < n; ++i) out[i] = LoadHalf(in + 2 * i);
      return absl::OkStatus();
    case TensorType::kBF16:
      for (int64_t i = 0; i < n; ++i) out[i] = LoadBFloat16(in + 2 * i);
      return absl::OkStatus();
    default:
      break;
  }
  const BlockDequantizer decode = BlockDequantizerFor(type);
  const int64_t blocks = n / traits->block_elements;
  for (int64_t b = 0; b < blocks; ++b) {
    decode(in + traits->block_bytes * b, out + traits->block_elements * b);
  }
  return absl::OkStatus();
}

}  // namespace kvlab::gguf
