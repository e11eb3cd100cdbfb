#include "eval/gguf/gguf_types.h"

namespace kvlab::gguf {

std::optional<std::string> ValueTypeName(uint32_t tag) {
  switch (static_cast<ValueType>(tag)) {
    case ValueType::kUint8: return "uint8";
    case ValueType::kInt8: return "int8";
    case ValueType::kUint16: return "uint16";
    case ValueType::kInt16: return "int16";
    case ValueType::kUint32: return "uint32";
    case ValueType::kInt32: return "int32";
    case ValueType::kFloat32: return "float32";
    case ValueType::kBool: return "bool";
    case ValueType::kString: return "string";
    case ValueType::kArray: return "array";
    case ValueType::kUint64: return "uint64";
    case ValueType::kInt64: return "int64";
    case ValueType::kFloat64: return "float64";
  }
  return std::nullopt;
}

std::optional<TensorTypeTraits> GetTensorTypeTraits(uint32_t type_id) {
  switch (static_cast<TensorType>(type_id)) {
    case TensorType::kF32: return TensorTypeTraits{"F32", 1, 4};
    case TensorType::kF16: return TensorTypeTraits{"F16", 1, 2};
    case TensorType::kQ4_0: return TensorTypeTraits{"Q4_0", 32, 18};
    case TensorType::kQ4_1: return TensorTypeTraits{"Q4_1", 32, 20};
    case TensorType::kQ5_0: return TensorTypeTraits{"Q5_0", 32, 22};
    case TensorType::kQ5_1: return TensorTypeTraits{"Q5_1", 32, 24};
    case TensorType::kQ8_0: return TensorTypeTraits{"Q8_0", 32, 34};
    case TensorType::kQ8_1: return TensorTypeTraits{"Q8_1", 32, 36};
    case TensorType::kQ2_K: return TensorTypeTraits{"Q2_K", 256, 84};
    case TensorType::kQ3_K: return TensorTypeTraits{"Q3_K", 256, 110};
    case TensorType::kQ4_K: return TensorTypeTraits{"Q4_K", 256, 144};
    case TensorType::kQ5_K: return TensorTypeTraits{"Q5_K", 256, 176};
    case TensorType::kQ6_K: return TensorTypeTraits{"Q6_K", 256, 210};
    case TensorType::kQ8_K: return TensorTypeTraits{"Q8_K", 256, 292};
    case TensorType::kI8: return TensorTypeTraits{"I8", 1, 1};
    case TensorType::kI16: return TensorTypeTraits{"I16", 1, 2};
    case TensorType::kI32: return TensorTypeTraits{"I32", 1, 4};
    case TensorType::kI64: return TensorTypeTraits{"I64", 1, 8};
    case TensorType::kF64: return TensorTypeTraits{"F64", 1, 8};
    case TensorType::kBF16: return TensorTypeTraits{"BF16", 1, 2};
  }
  return std::nullopt;
}

}  // namespace kvlab::gguf
