#include "eval/tokenizer/hf_added_tokens.h"

#include <algorithm>

#include "eval/tokenizer/unicode_text.h"

namespace kvlab::tokenizer {

namespace {

// Bytes of whitespace at the end (start) of `text`, by code point.
size_t TrailingWhitespace(absl::string_view text) {
  size_t n = 0;
  while (n < text.size()) {
    // Step back over one UTF-8 sequence.
    size_t begin = text.size() - n - 1;
    while (begin > 0 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) --begin;
    const std::vector<char32_t> cp = DecodeUtf8(text.substr(begin, text.size() - n - begin));
    if (cp.size() != 1 || !IsWhitespace(cp[0])) break;
    n = text.size() - begin;
  }
  return n;
}

size_t LeadingWhitespace(absl::string_view text) {
  size_t n = 0;
  while (n < text.size()) {
    const unsigned char lead = static_cast<unsigned char>(text[n]);
    const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    const std::vector<char32_t> cp = DecodeUtf8(text.substr(n, length));
    if (cp.size() != 1 || !IsWhitespace(cp[0])) break;
    n += length;
  }
  return n;
}

}  // namespace

HfAddedTokenSplitter::HfAddedTokenSplitter(const std::vector<HfAddedToken>& tokens,
                                           const std::vector<std::string>& patterns)
    : by_first_byte_(256) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (patterns[i].empty()) continue;
    by_first_byte_[static_cast<unsigned char>(patterns[i][0])].push_back(
        Pattern{patterns[i], tokens[i].id, tokens[i].lstrip, tokens[i].rstrip});
    ++count_;
  }
  for (std::vector<Pattern>& bucket : by_first_byte_) {
    std::stable_sort(bucket.begin(), bucket.end(), [](const Pattern& a, const Pattern& b) {
      return a.text.size() > b.text.size();
    });
  }
}

std::vector<TextPiece> HfAddedTokenSplitter::Split(absl::string_view text) const {
  std::vector<TextPiece> pieces;
  size_t done = 0;  // End of the last piece emitted.
  for (size_t at = 0; count_ > 0 && at < text.size();) {
    const Pattern* match = nullptr;
    for (const Pattern& p : by_first_byte_[static_cast<unsigned char>(text[at])]) {
      if (text.substr(at, p.text.size()) == p.text) {
        match = &p;
        break;
      }
    }
    if (match == nullptr) {
      ++at;
      continue;
    }
    size_t begin = at;
    size_t end = at + match->text.size();
    if (match->lstrip) begin -= TrailingWhitespace(text.substr(done, begin - done));
    if (match->rstrip) end += LeadingWhitespace(text.substr(end));
    if (begin > done) pieces.push_back(TextPiece{-1, text.substr(done, begin - done)});
    pieces.push_back(TextPiece{match->id, text.substr(begin, end - begin)});
    done = end;
    at = end;
  }
  if (done < text.size()) pieces.push_back(TextPiece{-1, text.substr(done)});
  return pieces;
}

}  // namespace kvlab::tokenizer
