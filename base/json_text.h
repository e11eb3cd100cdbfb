// Parsing JSON text into nlohmann::json with an error a user can act on: one line
// naming the file and the byte where parsing failed (nlohmann's own message may quote
// the offending bytes, newlines and all).
//
//   KVLAB_ASSIGN_OR_RETURN(nlohmann::json config, ParseJsonText(path, text));
#ifndef KVLAB_BASE_JSON_TEXT_H_
#define KVLAB_BASE_JSON_TEXT_H_

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvlab {

// Parses `text` (the contents of `name`, for messages). DataLoss "<name>: not valid
// JSON (<reason> at byte <n>)" if it is not one complete JSON value.
absl::StatusOr<nlohmann::json> ParseJsonText(absl::string_view name, absl::string_view text);

// "object", "array", "string", "number", "boolean" or "null": for messages that say
// what a field was instead of what was expected.
const char* JsonTypeName(const nlohmann::json& value);

}  // namespace kvlab

#endif  // KVLAB_BASE_JSON_TEXT_H_
