#include "base/json_text.h"

#include "absl/strings/str_format.h"

namespace kvlab {

absl::StatusOr<nlohmann::json> ParseJsonText(absl::string_view name, absl::string_view text) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the bytes last read, which may span lines; the position suffices.
    const char* reason = e.id == 101 ? "syntax error" : "invalid text";
    return absl::DataLossError(
        absl::StrFormat("%s: not valid JSON (%s at byte %d)", name, reason, e.byte));
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrFormat("%s: not valid JSON (error %d)", name, e.id));
  }
}

const char* JsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: return "object";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::discarded: return "invalid";
    default: return "number";
  }
}

}  // namespace kvlab
