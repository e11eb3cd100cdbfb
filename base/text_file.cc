#include "base/text_file.h"

#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_format.h"
#include "base/files.h"

namespace kvlab {

absl::Status CheckText(absl::string_view path, absl::string_view bytes) {
  const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
  const int64_t n = static_cast<int64_t>(bytes.size());
  int64_t i = 0;
  while (i < n) {
    const int64_t start = i;
    UChar32 c;
    // ICU's reader, as strict as RFC 3629; it takes an int32_t length, so the text is
    // read in windows that never split a character (at most 4 bytes).
    int32_t k = 0;
    const int32_t window = static_cast<int32_t>(std::min<int64_t>(n - start, 1 << 30));
    U8_NEXT(s + start, k, window, c);
    i = start + k;
    if (c < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: not UTF-8 text: byte 0x%02x at offset %d starts no UTF-8 character (set "
          "raw_bytes_text: true to score raw bytes)",
          path, s[start], start));
    }
    if (c == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: not text: a NUL byte at offset %d (set raw_bytes_text: true to score raw bytes)",
          path, start));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path, bool raw_bytes) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok() || raw_bytes) return text;
  if (absl::Status checked = CheckText(path, *text); !checked.ok()) return checked;
  return text;
}

}  // namespace kvlab
