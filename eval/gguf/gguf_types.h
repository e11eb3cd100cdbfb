// GGUF on-disk enumerations: metadata value types and ggml tensor types.
//
// The numbering is the GGUF specification's (versions 2 and 3, which share it).
#ifndef KVLAB_EVAL_GGUF_GGUF_TYPES_H_
#define KVLAB_EVAL_GGUF_GGUF_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>

namespace kvlab::gguf {

// Type tag of a metadata value.
enum class ValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// Returns the name of a value type ("uint32", "array", ...), or nullopt for an
// unknown tag.
std::optional<std::string> ValueTypeName(uint32_t tag);

// ggml tensor types that kvlab can size. Only some can be dequantized (see
// IsDequantizable in dequantize.h); the others still parse so that a file holding
// them opens and reports a precise error when such a tensor is loaded.
enum class TensorType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kBF16 = 30,
};

// Storage layout of a tensor type: `block_elements` consecutive elements along the
// innermost dimension are stored in `block_bytes` bytes.
struct TensorTypeTraits {
  const char* name;
  int64_t block_elements;
  int64_t block_bytes;
};

// Returns the traits of a ggml type id, or nullopt if kvlab does not know the id.
std::optional<TensorTypeTraits> GetTensorTypeTraits(uint32_t type_id);

}  // namespace kvlab::gguf

#endif  // KVLAB_EVAL_GGUF_GGUF_TYPES_H_
