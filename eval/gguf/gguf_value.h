// GgufValue: one metadata value of a GGUF file (a scalar, a string, or an array).
#ifndef KVLAB_EVAL_GGUF_GGUF_VALUE_H_
#define KVLAB_EVAL_GGUF_GGUF_VALUE_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/gguf/gguf_types.h"

namespace kvlab::gguf {

class GgufValue {
 public:
  using Array = std::vector<GgufValue>;

  static GgufValue Unsigned(ValueType type, uint64_t value) { return GgufValue(type, value); }
  static GgufValue Signed(ValueType type, int64_t value) { return GgufValue(type, value); }
  static GgufValue Float(ValueType type, double value) { return GgufValue(type, value); }
  static GgufValue Bool(bool value) { return GgufValue(ValueType::kBool, value); }
  static GgufValue String(std::string value) {
    return GgufValue(ValueType::kString, std::move(value));
  }
  static GgufValue MakeArray(ValueType element_type, Array elements) {
    GgufValue value(ValueType::kArray, std::move(elements));
    value.element_type_ = element_type;
    return value;
  }

  ValueType type() const { return type_; }
  // The element type of an array value; meaningless for other values.
  ValueType element_type() const { return element_type_; }

  // Typed accessors. Each fails with InvalidArgument when the stored type does not
  // convert: integers convert to int64 if in range, integers and floats to double.
  absl::StatusOr<int64_t> AsInt() const;
  absl::StatusOr<double> AsDouble() const;
  absl::StatusOr<bool> AsBool() const;
  absl::StatusOr<std::string> AsString() const;
  absl::StatusOr<const Array*> AsArray() const;

  // Short human-readable rendering, e.g. `42`, `"llama"`, `[string x 49152]`.
  std::string DebugString() const;

 private:
  using Storage = std::variant<uint64_t, int64_t, double, bool, std::string, Array>;
  GgufValue(ValueType type, Storage storage) : type_(type), storage_(std::move(storage)) {}

  ValueType type_;
  ValueType element_type_ = ValueType::kUint8;
  Storage storage_;
};

}  // namespace kvlab::gguf

#endif  // KVLAB_EVAL_GGUF_GGUF_VALUE_H_
