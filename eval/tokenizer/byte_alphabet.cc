#include "eval/tokenizer/byte_alphabet.h"

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

}  // namespace kvlab::tokenizer
