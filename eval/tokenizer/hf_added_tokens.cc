#include "eval/tokenizer/hf_added_tokens.h"

#include <algorithm>
#include <utility>

#include "eval/tokenizer/unicode_text.h"

namespace kvlab::tokenizer {

namespace {

// The code point that ends at `end` (begins at `begin`) of well-formed `text`, and its
// length in bytes.
std::pair<char32_t, size_t> CharacterBefore(absl::string_view text, size_t end) {
  size_t begin = end - 1;
  while (begin > 0 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) --begin;
  return {DecodeUtf8(text.substr(begin, end - begin))[0], end - begin};
}

std::pair<char32_t, size_t> CharacterAt(absl::string_view text, size_t begin) {
  const size_t length = Utf8SequenceLength(text, begin);
  return {DecodeUtf8(text.substr(begin, length))[0], length};
}

// Bytes of whitespace at the end (start) of `text`.
size_t TrailingWhitespace(absl::string_view text) {
  size_t end = text.size();
  while (end > 0) {
    const auto [cp, length] = CharacterBefore(text, end);
    if (!IsWhitespace(cp)) break;
    end -= length;
  }
  return text.size() - end;
}

size_t LeadingWhitespace(absl::string_view text) {
  size_t begin = 0;
  while (begin < text.size()) {
    const auto [cp, length] = CharacterAt(text, begin);
    if (!IsWhitespace(cp)) break;
    begin += length;
  }
  return begin;
}

// Whether a word character ends (begins) at `at`: what single_word forbids.
bool TouchesWordBefore(absl::string_view text, size_t at) {
  return at > 0 && IsWordCharacter(CharacterBefore(text, at).first);
}

bool TouchesWordAfter(absl::string_view text, size_t at) {
  return at < text.size() && IsWordCharacter(CharacterAt(text, at).first);
}

}  // namespace

HfAddedTokenSplitter::HfAddedTokenSplitter(const std::vector<HfAddedToken>& tokens,
                                           const std::vector<std::string>& patterns)
    : by_first_byte_(256) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (patterns[i].empty()) continue;
    by_first_byte_[static_cast<unsigned char>(patterns[i][0])].push_back(Pattern{
        patterns[i], tokens[i].id, tokens[i].lstrip, tokens[i].rstrip, tokens[i].single_word});
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
    if (match->single_word && (TouchesWordBefore(text, begin) || TouchesWordAfter(text, end))) {
      at = end;  // The search resumes after it, as Aho-Corasick's leftmost iteration does.
      continue;
    }
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
