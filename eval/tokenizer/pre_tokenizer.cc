#include "eval/tokenizer/pre_tokenizer.h"

#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "eval/tokenizer/unicode_text.h"

namespace kvlab::tokenizer {

namespace {

// Class of a code point, or kOutside past the end of the current piece: the GPT-2
// regex's lookahead and greedy runs stop there.
enum class CharClass { kOutside, kLetter, kNumber, kWhitespace, kOther };

CharClass Classify(absl::Span<const char32_t> piece, size_t i) {
  if (i >= piece.size()) return CharClass::kOutside;
  const char32_t cp = piece[i];
  if (IsWhitespace(cp)) return CharClass::kWhitespace;
  if (IsLetter(cp)) return CharClass::kLetter;
  if (IsNumber(cp)) return CharClass::kNumber;
  return CharClass::kOther;
}

// Ends (exclusive indices into `piece`) of the GPT-2 regex's matches, which tile the
// piece.
std::vector<size_t> SplitGpt2(absl::Span<const char32_t> piece) {
  std::vector<size_t> ends;
  const size_t n = piece.size();
  size_t pos = 0;
  auto cp_at = [&](size_t i) -> char32_t { return i < n ? piece[i] : 0; };
  while (pos < n) {
    const char32_t c = piece[pos];
    // 's|'t|'re|'ve|'m|'ll|'d
    if (c == U'\'' && pos + 1 < n) {
      const char32_t c1 = cp_at(pos + 1);
      if (c1 == U's' || c1 == U't' || c1 == U'm' || c1 == U'd') {
        pos += 2;
        ends.push_back(pos);
        continue;
      }
      const char32_t c2 = cp_at(pos + 2);
      if (pos + 2 < n && ((c1 == U'r' && c2 == U'e') || (c1 == U'v' && c2 == U'e') ||
                          (c1 == U'l' && c2 == U'l'))) {
        pos += 3;
        ends.push_back(pos);
        continue;
      }
    }
    // An optional leading space joins a following letter, number or symbol run.
    const size_t run_start = c == U' ' ? pos + 1 : pos;
    const CharClass run_class = Classify(piece, run_start);
    // ` ?\p{L}+`, ` ?\p{N}+` and ` ?[^\s\p{L}\p{N}]+`
    if (run_class == CharClass::kLetter || run_class == CharClass::kNumber ||
        run_class == CharClass::kOther) {
      pos = run_start;
      while (Classify(piece, pos) == run_class) ++pos;
      ends.push_back(pos);
      continue;
    }
    size_t spaces = 0;
    while (Classify(piece, pos + spaces) == CharClass::kWhitespace) ++spaces;
    // `\s+(?!\S)`: a whitespace run followed by a non-space gives up its last
    // character, which then leads the next word.
    if (spaces > 1 && pos + spaces < n) {
      pos += spaces - 1;
      ends.push_back(pos);
      continue;
    }
    // `\s+`
    if (spaces > 0) {
      pos += spaces;
      ends.push_back(pos);
      continue;
    }
    ends.push_back(++pos);  // Unreachable for well-classified input; advance anyway.
  }
  return ends;
}

}  // namespace

absl::StatusOr<PreTokenizer> PreTokenizer::ForName(absl::string_view name) {
  if (name == "gpt2" || name == "default") return PreTokenizer(/*split_digits=*/false);
  if (name == "smollm" || name == "starcoder" || name == "refact" || name == "command-r" ||
      name == "codeshell" || name == "exaone" || name == "minerva") {
    return PreTokenizer(/*split_digits=*/true);
  }
  return absl::UnimplementedError(absl::StrFormat(
      "pre-tokenizer '%s' is not supported (supported: gpt2, default, smollm, starcoder, "
      "refact, command-r, codeshell, exaone, minerva)",
      name));
}

std::vector<std::string> PreTokenizer::Split(absl::string_view text) const {
  const std::vector<char32_t> cps = DecodeUtf8(text);
  // First pass: pieces, each either a lone \p{N} code point or the text between them.
  std::vector<absl::Span<const char32_t>> pieces;
  if (split_digits_) {
    size_t start = 0;
    for (size_t i = 0; i < cps.size(); ++i) {
      if (!IsNumber(cps[i])) continue;
      if (i > start) pieces.emplace_back(cps.data() + start, i - start);
      pieces.emplace_back(cps.data() + i, 1);
      start = i + 1;
    }
    if (start < cps.size()) pieces.emplace_back(cps.data() + start, cps.size() - start);
  } else if (!cps.empty()) {
    pieces.emplace_back(cps.data(), cps.size());
  }
  // Second pass: the GPT-2 regex within each piece.
  std::vector<std::string> words;
  for (absl::Span<const char32_t> piece : pieces) {
    size_t begin = 0;
    for (size_t end : SplitGpt2(piece)) {
      std::string word;
      for (size_t i = begin; i < end; ++i) AppendUtf8(piece[i], word);
      words.push_back(std::move(word));
      begin = end;
    }
  }
  return words;
}

}  // namespace kvlab::tokenizer
