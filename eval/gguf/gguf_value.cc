#include "eval/gguf/gguf_value.h"

#include <limits>

#include "absl/strings/str_format.h"

namespace kvlab::gguf {

namespace {

std::string TypeName(ValueType type) {
  return ValueTypeName(static_cast<uint32_t>(type)).value_or("unknown");
}

absl::Status WrongType(ValueType actual, const char* wanted) {
  return absl::InvalidArgumentError(
      absl::StrFormat("value of type %s is not %s", TypeName(actual), wanted));
}

}  // namespace

absl::StatusOr<int64_t> GgufValue::AsInt() const {
  if (const auto* u = std::get_if<uint64_t>(&storage_)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::OutOfRangeError(absl::StrFormat("value %d does not fit int64", *u));
    }
    return static_cast<int64_t>(*u);
  }
  if (const auto* i = std::get_if<int64_t>(&storage_)) return *i;
  return WrongType(type_, "an integer");
}

absl::StatusOr<double> GgufValue::AsDouble() const {
  if (const auto* d = std::get_if<double>(&storage_)) return *d;
  if (const auto* u = std::get_if<uint64_t>(&storage_)) return static_cast<double>(*u);
  if (const auto* i = std::get_if<int64_t>(&storage_)) return static_cast<double>(*i);
  return WrongType(type_, "a number");
}

absl::StatusOr<bool> GgufValue::AsBool() const {
  if (const auto* b = std::get_if<bool>(&storage_)) return *b;
  return WrongType(type_, "a bool");
}

absl::StatusOr<std::string> GgufValue::AsString() const {
  if (const auto* s = std::get_if<std::string>(&storage_)) return *s;
  return WrongType(type_, "a string");
}

absl::StatusOr<const GgufValue::Array*> GgufValue::AsArray() const {
  if (const auto* a = std::get_if<Array>(&storage_)) return a;
  return WrongType(type_, "an array");
}

std::string GgufValue::DebugString() const {
  return std::visit(
      [this](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return absl::StrFormat("\"%s\"", v.size() > 60 ? v.substr(0, 57) + "..." : v);
        } else if constexpr (std::is_same_v<T, Array>) {
          return absl::StrFormat("[%s x %d]", TypeName(element_type_), v.size());
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_floating_point_v<T>) {
          return absl::StrFormat("%g", v);
        } else if constexpr (std::is_signed_v<T>) {
          // Widened: int8_t is a character type to the formatter.
          return absl::StrFormat("%d", static_cast<int64_t>(v));
        } else {
          return absl::StrFormat("%d", static_cast<uint64_t>(v));
        }
      },
      storage_);
}

}  // namespace kvlab::gguf
