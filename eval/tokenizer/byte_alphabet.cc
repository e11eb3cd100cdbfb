#include "eval/tokenizer/byte_alphabet.h"

#include <cstdint>

#include "absl/container/flat_hash_map.h"

#include "eval/tokenizer/unicode_text.h"

namespace kvlab::tokenizer {

std::vector<std::string> MakeByteAlphabet() {
  std::vector<std::string> symbols(256);
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + next++);
    AppendUtf8(cp, symbols[b]);
  }
  return symbols;
}

void AppendByteAlphabetDecoded(absl::string_view token, std::string& out) {
  // Built once, on first use (no static initialization order to worry about).
  static const auto* const byte_of = [] {
    auto* map = new absl::flat_hash_map<char32_t, uint8_t>();
    const std::vector<std::string> alphabet = MakeByteAlphabet();
    for (int b = 0; b < 256; ++b) map->emplace(DecodeUtf8(alphabet[b])[0], b);
    return map;
  }();
  for (char32_t cp : DecodeUtf8(token)) {
    if (auto it = byte_of->find(cp); it != byte_of->end()) {
      out.push_back(static_cast<char>(it->second));
    } else {
      AppendUtf8(cp, out);
    }
  }
}

}  // namespace kvlab::tokenizer
