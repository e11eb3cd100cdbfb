#include "eval/tokenizer/unicode_text.h"

#include <algorithm>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

namespace kvlab::tokenizer {

namespace {

bool IsContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

size_t Utf8SequenceLength(absl::string_view text, size_t at) {
  const unsigned char lead = static_cast<unsigned char>(text[at]);
  const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  return std::min(length, text.size() - at);
}

std::vector<char32_t> DecodeUtf8(absl::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char lead = s[i];
    int length = 0;
    char32_t cp = 0;
    if (lead < 0x80) {
      length = 1;
      cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      cp = lead & 0x07;
    }
    bool valid = length > 0 && i + length <= n;
    for (int k = 1; valid && k < length; ++k) {
      valid = IsContinuation(s[i + k]);
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (valid) {
      out.push_back(cp);
      i += length;
    } else {
      out.push_back(kReplacementCharacter);
      i += 1;
    }
  }
  return out;
}

bool IsValidUtf8(absl::string_view text) {
  // ICU indexes with int32_t; longer texts are checked in pieces cut before a lead byte.
  constexpr size_t kPiece = size_t{1} << 30;
  while (text.size() > kPiece) {
    size_t cut = kPiece;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    if (!IsValidUtf8(text.substr(0, cut))) return false;
    text.remove_prefix(cut);
  }
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t n = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < n;) {
    UChar32 cp;
    U8_NEXT(s, i, n, cp);
    if (cp < 0) return false;
  }
  return true;
}

std::string ToValidUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  // Indexes are int32_t for ICU's macro; texts of 2 GiB or more go in pieces.
  constexpr size_t kPiece = size_t{1} << 30;
  for (size_t offset = 0; offset < text.size(); offset += kPiece) {
    const int32_t n = static_cast<int32_t>(std::min(kPiece, text.size() - offset));
    for (int32_t i = 0; i < n;) {
      const int32_t start = i;
      UChar32 cp;
      U8_NEXT(s + offset, i, n, cp);
      if (cp < 0) {
        AppendUtf8(kReplacementCharacter, out);
        i = start + 1;
      } else {
        out.append(text.data() + offset + start, i - start);
      }
    }
  }
  return out;
}

void AppendUtf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsLetter(char32_t cp) {
  return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_L_MASK) != 0;
}

bool IsNumber(char32_t cp) {
  return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_N_MASK) != 0;
}

bool IsWhitespace(char32_t cp) { return u_isUWhiteSpace(static_cast<UChar32>(cp)) != 0; }

bool IsWordCharacter(char32_t cp) {
  const UChar32 c = static_cast<UChar32>(cp);
  const uint32_t category = U_GET_GC_MASK(c);
  return u_hasBinaryProperty(c, UCHAR_ALPHABETIC) ||
         (category & (U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK)) != 0 ||
         u_hasBinaryProperty(c, UCHAR_JOIN_CONTROL);
}

}  // namespace kvlab::tokenizer
