#include "eval/tokenizer/regex_split.h"

#include <pthread.h>

#include <functional>
#include <regex>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "eval/tokenizer/unicode_text.h"
#include "unicode/regex.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"

namespace kvlab::tokenizer {

CharCategory LlamaCppCategory(char32_t cp) {
  if (cp >= 0x2EBF0 && cp <= 0x2EE5D) return CharCategory::kLetter;
  if ((cp >= 0x2FFC && cp <= 0x2FFF) || cp == 0x31EF) return CharCategory::kSymbol;
  const uint32_t mask = U_GET_GC_MASK(static_cast<UChar32>(cp));
  if (mask & U_GC_N_MASK) return CharCategory::kNumber;
  if (mask & U_GC_L_MASK) return CharCategory::kLetter;
  if (mask & U_GC_P_MASK) return CharCategory::kPunctuation;
  if (mask & U_GC_M_MASK) return CharCategory::kMark;
  if (mask & U_GC_S_MASK) return CharCategory::kSymbol;
  return CharCategory::kOther;
}

bool IsLlamaCppWhitespace(char32_t cp) { return IsWhitespace(cp); }

namespace {

using Engine = SplitPattern::Engine;

bool IsLetterAt(absl::Span<const char32_t> text, size_t i, size_t end) {
  return i < end && LlamaCppCategory(text[i]) == CharCategory::kLetter;
}
bool IsNumberAt(absl::Span<const char32_t> text, size_t i, size_t end) {
  return i < end && LlamaCppCategory(text[i]) == CharCategory::kNumber;
}
bool IsWhitespaceAt(absl::Span<const char32_t> text, size_t i, size_t end) {
  return i < end && IsLlamaCppWhitespace(text[i]);
}
// [^\s\p{L}\p{N}] within the piece.
bool IsOtherAt(absl::Span<const char32_t> text, size_t i, size_t end) {
  return i < end && !IsWhitespaceAt(text, i, end) && !IsLetterAt(text, i, end) &&
         !IsNumberAt(text, i, end);
}

// Length of a contraction ('s 't 're 've 'm 'll 'd, either case when `any_case`) at
// text[i], or 0.
size_t ContractionAt(absl::Span<const char32_t> text, size_t i, size_t end, bool any_case) {
  if (i + 1 >= end || text[i] != U'\'') return 0;
  auto lower = [&](size_t k) -> char32_t {
    const char32_t c = text[k];
    return any_case && c >= U'A' && c <= U'Z' ? c - U'A' + U'a' : c;
  };
  const char32_t c1 = lower(i + 1);
  if (c1 == U's' || c1 == U't' || c1 == U'm' || c1 == U'd') return 2;
  if (i + 2 >= end) return 0;
  const char32_t c2 = lower(i + 2);
  if ((c1 == U'r' && c2 == U'e') || (c1 == U'v' && c2 == U'e') || (c1 == U'l' && c2 == U'l')) {
    return 3;
  }
  return 0;
}

// GPT-2's regex 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// over one piece; appends the ends of its matches, which tile the piece.
void SplitGpt2(absl::Span<const char32_t> text, CodePointRange piece, std::vector<size_t>& ends) {
  const size_t end = piece.end;
  size_t pos = piece.begin;
  while (pos < end) {
    if (const size_t n = ContractionAt(text, pos, end, /*any_case=*/false); n > 0) {
      pos += n;
      ends.push_back(pos);
      continue;
    }
    // An optional leading space joins a following letter, number or symbol run.
    const size_t run = text[pos] == U' ' ? pos + 1 : pos;
    using Test = bool (*)(absl::Span<const char32_t>, size_t, size_t);
    Test test = IsLetterAt(text, run, end)   ? IsLetterAt
                : IsNumberAt(text, run, end) ? IsNumberAt
                : IsOtherAt(text, run, end)  ? IsOtherAt
                                             : nullptr;
    if (test != nullptr) {
      pos = run;
      while (test(text, pos, end)) ++pos;
      ends.push_back(pos);
      continue;
    }
    size_t spaces = 0;
    while (IsWhitespaceAt(text, pos + spaces, end)) ++spaces;
    // \s+(?!\S): a run followed by a non-space gives up its last character.
    if (spaces > 1 && pos + spaces < end) {
      pos += spaces - 1;
    } else {
      pos += spaces > 0 ? spaces : 1;
    }
    ends.push_back(pos);
  }
}

// Han characters as Kimi K2's tokenizer defines them (CJK ideograph blocks).
bool IsHan(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2EBEF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Kimi K2's regex over one piece:
//   [\p{Han}]+ | [^\r\n\p{L}\p{N}]? (non-Han letters)+ contraction? | \p{N}{1,3}
//   | ?[^\s\p{L}\p{N}]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+
// (its two letter alternatives, upper-then-lower and upper-only, together take any run
// of non-Han letters).
void SplitKimiK2(absl::Span<const char32_t> text, CodePointRange piece, std::vector<size_t>& ends) {
  const size_t end = piece.end;
  auto han_at = [&](size_t i) { return i < end && IsHan(text[i]); };
  auto word_letter_at = [&](size_t i) { return IsLetterAt(text, i, end) && !han_at(i); };
  size_t pos = piece.begin;
  while (pos < end) {
    const char32_t c = text[pos];
    if (han_at(pos)) {
      while (han_at(pos)) ++pos;
      ends.push_back(pos);
      continue;
    }
    const bool can_lead =
        c != U'\r' && c != U'\n' && !IsLetterAt(text, pos, end) && !IsNumberAt(text, pos, end);
    if (word_letter_at(pos) || (can_lead && word_letter_at(pos + 1))) {
      if (can_lead) ++pos;
      while (word_letter_at(pos)) ++pos;
      pos += ContractionAt(text, pos, end, /*any_case=*/true);
      ends.push_back(pos);
      continue;
    }
    if (IsNumberAt(text, pos, end)) {
      for (size_t digits = 0; digits < 3 && IsNumberAt(text, pos, end); ++digits) ++pos;
      ends.push_back(pos);
      continue;
    }
    const size_t run = c == U' ' ? pos + 1 : pos;
    if (IsOtherAt(text, run, end)) {
      pos = run;
      while (IsOtherAt(text, pos, end)) ++pos;
      while (pos < end && (text[pos] == U'\r' || text[pos] == U'\n')) ++pos;
      ends.push_back(pos);
      continue;
    }
    size_t spaces = 0;
    size_t after_last_newline = 0;
    while (IsWhitespaceAt(text, pos + spaces, end)) {
      const char32_t s = text[pos + spaces];
      ++spaces;
      if (s == U'\r' || s == U'\n') after_last_newline = pos + spaces;
    }
    if (after_last_newline > 0) {
      pos = after_last_newline;  // \s*[\r\n]+
    } else if (spaces > 1 && pos + spaces < end) {
      pos += spaces - 1;  // \s+(?!\S)
    } else {
      pos += spaces > 0 ? spaces : 1;
    }
    ends.push_back(pos);
  }
}

// Each \p{N} run cut into groups of three from its end ("12345" -> "12" "345"). As in
// llama.cpp, a group's piece starts where the previous piece ended, so the text before
// a run joins its first group, and the text after the last run is one piece.
void SplitDigitGroups(absl::Span<const char32_t> text, CodePointRange piece,
                      std::vector<size_t>& ends) {
  size_t pos = piece.begin;
  while (pos < piece.end) {
    if (!IsNumberAt(text, pos, piece.end)) {
      ++pos;
      continue;
    }
    const size_t run = pos;
    while (IsNumberAt(text, pos, piece.end)) ++pos;
    const size_t first = (pos - run) % 3;
    if (first > 0) ends.push_back(run + first);
    for (size_t group = run + first + 3; group <= pos; group += 3) ends.push_back(group);
  }
  if (ends.empty() || ends.back() < piece.end) ends.push_back(piece.end);
}

void SplitNewlines(absl::Span<const char32_t> text, CodePointRange piece,
                   std::vector<size_t>& ends) {
  size_t pos = piece.begin;
  while (pos < piece.end) {
    const bool newline = text[pos] == U'\n';
    while (pos < piece.end && (text[pos] == U'\n') == newline) ++pos;
    ends.push_back(pos);
  }
}

// Cuts before each group of three ASCII digits counted from the end of their run
// ((?=(\d{3})+(?!\d)): the lookahead holds where a positive multiple of three digits
// follows up to the run's end).
void SplitThousands(absl::Span<const char32_t> text, CodePointRange piece,
                    std::vector<size_t>& ends) {
  auto digit_at = [&](size_t i) { return i < piece.end && text[i] >= U'0' && text[i] <= U'9'; };
  size_t pos = piece.begin;
  while (pos < piece.end) {
    if (!digit_at(pos)) {
      ++pos;
      continue;
    }
    const size_t run = pos;
    while (digit_at(pos)) ++pos;
    for (size_t cut = run + (pos - run) % 3; cut < pos; cut += 3) {
      if (cut > piece.begin && (ends.empty() || ends.back() < cut)) ends.push_back(cut);
    }
  }
  if (ends.empty() || ends.back() < piece.end) ends.push_back(piece.end);
}

// --- Regexes run by ICU (Llama 3's, Qwen2's, Qwen3.5's). ---

// The regex with llama.cpp's classes spelled out for ICU: \s as White_Space (ICU's \s
// lacks U+000B and U+0085) and \p{L} with Unicode 15.1's new letters.
std::string ForIcu(absl::string_view regex) {
  return absl::StrReplaceAll(regex, {{R"(\s)", R"(\p{White_Space})"},
                                     {R"(\S)", R"(\P{White_Space})"},
                                     {R"(\p{L})", R"([\p{L}\x{2EBF0}-\x{2EE5D}])"}});
}

// --- Regexes run by the standard library, as llama.cpp runs them. ---

constexpr char kCollapsedWhitespace = '\x0B';
constexpr char kCollapsedOther = '\xD0';

// A category's stand-in byte and its ASCII members, as a bracket expression's contents.
struct CollapsedCategory {
  absl::string_view name;  // As the regex writes it.
  char stand_in;
  absl::string_view ascii_members;
};
constexpr CollapsedCategory kCollapsedCategories[] = {
    {R"(\p{N})", '\xD1', "0-9"},     {R"(\p{L})", '\xD2', "A-Za-z"},
    {R"(\p{Lu})", '\xD2', "A-Za-z"}, {R"(\p{Ll})", '\xD2', "A-Za-z"},
    {R"(\p{Lt})", '\xD2', "A-Za-z"}, {R"(\p{Lm})", '\xD2', "A-Za-z"},
    {R"(\p{Lo})", '\xD2', "A-Za-z"}, {R"(\p{P})", '\xD3', R"(!-#%-*,-/:-;?-@\[-\]_\{\})"},
    {R"(\p{M})", '\xD4', ""},        {R"(\p{S})", '\xD5', R"(\$\+<->^`\|\~)"},
};

char CollapsedStandIn(char32_t cp) {
  if (cp < 0x80) return static_cast<char>(cp);
  if (IsLlamaCppWhitespace(cp)) return kCollapsedWhitespace;
  switch (LlamaCppCategory(cp)) {
    case CharCategory::kNumber:
      return '\xD1';
    case CharCategory::kLetter:
      return '\xD2';
    case CharCategory::kPunctuation:
      return '\xD3';
    case CharCategory::kMark:
      return '\xD4';
    case CharCategory::kSymbol:
      return '\xD5';
    case CharCategory::kOther:
      break;
  }
  return kCollapsedOther;
}

bool NamesCategory(absl::string_view regex) {
  for (const CollapsedCategory& category : kCollapsedCategories) {
    if (absl::StrContains(regex, category.name)) return true;
  }
  return false;
}

// The regex over collapsed text: each category name becomes its stand-in and ASCII
// members, bracketed unless already inside brackets (which do not nest here).
absl::StatusOr<std::string> CollapseRegex(absl::string_view regex) {
  std::string out;
  bool in_brackets = false;
  for (size_t i = 0; i < regex.size(); ++i) {
    const char c = regex[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "regex '%s' names a Unicode category and holds non-ASCII characters", regex));
    }
    const bool escaped = i > 0 && regex[i - 1] == '\\';
    if (c == '[' && !escaped) {
      in_brackets = true;
      out += c;
      continue;
    }
    if (c == ']' && in_brackets && !escaped) {
      in_brackets = false;
      out += c;
      continue;
    }
    bool replaced = false;
    for (const CollapsedCategory& category : kCollapsedCategories) {
      if (regex.substr(i, category.name.size()) != category.name) continue;
      if (!in_brackets) out += '[';
      out += category.stand_in;
      absl::StrAppend(&out, category.ascii_members);
      if (!in_brackets) out += ']';
      i += category.name.size() - 1;
      replaced = true;
      break;
    }
    if (!replaced) out += c;
  }
  return out;
}

// Appends to `ends` the ends of `regex`'s matches in [begin, end) and of the stretches
// between them.
template <typename Iterator, typename Regex>
void AppendStdRegexSplit(Iterator text_begin, CodePointRange piece, const Regex& regex,
                         std::vector<size_t>& ends) {
  using MatchIterator = std::regex_iterator<Iterator>;
  size_t last = piece.begin;
  for (MatchIterator it(text_begin + piece.begin, text_begin + piece.end, regex), done; it != done;
       ++it) {
    const size_t begin = piece.begin + static_cast<size_t>(it->position());
    const size_t end = begin + static_cast<size_t>(it->length());
    if (begin > last) ends.push_back(begin);
    if (end > begin) ends.push_back(end);
    last = end;
  }
  if (piece.end > last) ends.push_back(piece.end);
}

constexpr auto kStdRegexFlags = std::regex_constants::optimize | std::regex_constants::nosubs;

// libstdc++'s std::regex recurses once per character a match spans, so one long word
// overflows an ordinary 8 MiB stack (llama.cpp, which matches the same way, crashes on a
// run of some 50,000 letters). The matching runs on a thread with a 1 GiB stack instead
// (reserved, and touched only as deep as the recursion goes), which takes words of
// millions of characters.
void RunOnLargeStack(const std::function<void()>& work) {
  constexpr size_t kStackBytes = size_t{1} << 30;
  pthread_attr_t attributes;
  pthread_t thread;
  auto run = [](void* argument) -> void* {
    (*static_cast<const std::function<void()>*>(argument))();
    return nullptr;
  };
  const bool started = pthread_attr_init(&attributes) == 0 &&
                       pthread_attr_setstacksize(&attributes, kStackBytes) == 0 &&
                       pthread_create(&thread, &attributes, run,
                                      const_cast<std::function<void()>*>(&work)) == 0;
  pthread_attr_destroy(&attributes);
  if (started) {
    pthread_join(thread, nullptr);
  } else {
    work();  // No thread to be had: match on this one.
  }
}

}  // namespace

struct CompiledSplitPattern::Compiled {
  Engine engine;
  std::unique_ptr<icu::RegexPattern> icu;
  // kStdRegex: over collapsed text (`collapsed`) or over code points.
  bool collapsed = false;
  std::regex narrow;
  std::wregex wide;
};

absl::StatusOr<CompiledSplitPattern> CompiledSplitPattern::Compile(const SplitPattern& pattern) {
  auto compiled = std::make_shared<Compiled>();
  compiled->engine = pattern.engine;
  switch (pattern.engine) {
    case Engine::kLlama3:
    case Engine::kQwen2:
    case Engine::kQwen35: {
      UErrorCode error = U_ZERO_ERROR;
      UParseError parse_error;
      compiled->icu.reset(icu::RegexPattern::compile(
          icu::UnicodeString::fromUTF8(ForIcu(pattern.regex)), 0, parse_error, error));
      if (U_FAILURE(error)) {
        return absl::InvalidArgumentError(absl::StrFormat("ICU cannot compile regex '%s': %s",
                                                          pattern.regex, u_errorName(error)));
      }
      break;
    }
    case Engine::kStdRegex:
      try {
        if (NamesCategory(pattern.regex)) {
          compiled->collapsed = true;
          absl::StatusOr<std::string> regex = CollapseRegex(pattern.regex);
          if (!regex.ok()) return regex.status();
          compiled->narrow = std::regex(*regex, kStdRegexFlags);
        } else {
          const std::vector<char32_t> cps = DecodeUtf8(pattern.regex);
          compiled->wide = std::wregex(std::wstring(cps.begin(), cps.end()), kStdRegexFlags);
        }
      } catch (const std::regex_error& e) {
        return absl::InvalidArgumentError(
            absl::StrFormat("regex '%s' does not compile: %s", pattern.regex, e.what()));
      }
      break;
    default:
      break;
  }
  return CompiledSplitPattern(std::move(compiled));
}

std::vector<CodePointRange> CompiledSplitPattern::Refine(
    absl::Span<const char32_t> text, const std::vector<CodePointRange>& pieces) const {
  std::vector<size_t> ends;
  ends.reserve(pieces.size());
  const Compiled& c = *compiled_;
  switch (c.engine) {
    case Engine::kGpt2:
      for (const CodePointRange& piece : pieces) SplitGpt2(text, piece, ends);
      break;
    case Engine::kKimiK2:
      for (const CodePointRange& piece : pieces) SplitKimiK2(text, piece, ends);
      break;
    case Engine::kDigitGroups:
      for (const CodePointRange& piece : pieces) SplitDigitGroups(text, piece, ends);
      break;
    case Engine::kNewlines:
      for (const CodePointRange& piece : pieces) SplitNewlines(text, piece, ends);
      break;
    case Engine::kThousandsCuts:
      for (const CodePointRange& piece : pieces) SplitThousands(text, piece, ends);
      break;
    case Engine::kLlama3:
    case Engine::kQwen2:
    case Engine::kQwen35: {
      // ICU indexes UTF-16 units; `unit_to_cp` maps them back. Values beyond U+10FFFF
      // (which llama.cpp's lenient decoding lets through) are classed as U+FFFD is.
      icu::UnicodeString utf16;
      std::vector<size_t> unit_to_cp;
      unit_to_cp.reserve(text.size() + 1);
      for (size_t i = 0; i < text.size(); ++i) {
        const UChar32 cp = text[i] > 0x10FFFF ? 0xFFFD : static_cast<UChar32>(text[i]);
        utf16.append(cp);
        while (unit_to_cp.size() < static_cast<size_t>(utf16.length())) unit_to_cp.push_back(i);
      }
      unit_to_cp.push_back(text.size());
      std::vector<int32_t> cp_to_unit(text.size() + 1, utf16.length());
      for (size_t unit = unit_to_cp.size(); unit-- > 0;) cp_to_unit[unit_to_cp[unit]] = unit;
      UErrorCode error = U_ZERO_ERROR;
      std::unique_ptr<icu::RegexMatcher> matcher(c.icu->matcher(utf16, error));
      for (const CodePointRange& piece : pieces) {
        // The region's bounds are opaque: a lookahead sees the piece's end as the text's.
        matcher->region(cp_to_unit[piece.begin], cp_to_unit[piece.end], error);
        size_t last = piece.begin;
        while (U_SUCCESS(error) && matcher->find(error)) {
          const size_t begin = unit_to_cp[matcher->start(error)];
          const size_t end = unit_to_cp[matcher->end(error)];
          if (begin > last) ends.push_back(begin);
          if (end > begin) ends.push_back(end);
          last = end;
        }
        if (piece.end > last) ends.push_back(piece.end);
      }
      break;
    }
    case Engine::kStdRegex:
      RunOnLargeStack([&] {
        if (c.collapsed) {
          std::string collapsed(text.size(), kCollapsedOther);
          for (size_t i = 0; i < text.size(); ++i) collapsed[i] = CollapsedStandIn(text[i]);
          for (const CodePointRange& piece : pieces) {
            AppendStdRegexSplit(collapsed.cbegin(), piece, c.narrow, ends);
          }
        } else {
          std::wstring wide(text.size(), L'\0');
          for (size_t i = 0; i < text.size(); ++i) {
            wide[i] = text[i] >= 0x80 && IsLlamaCppWhitespace(text[i])
                          ? static_cast<wchar_t>(kCollapsedWhitespace)
                          : static_cast<wchar_t>(text[i]);
          }
          for (const CodePointRange& piece : pieces) {
            AppendStdRegexSplit(wide.cbegin(), piece, c.wide, ends);
          }
        }
      });
      break;
  }
  // The pieces tile the text in order, and every engine ends each piece's run of ends
  // with the piece's own end, so consecutive ends bound the new pieces.
  std::vector<CodePointRange> out;
  out.reserve(ends.size());
  size_t begin = pieces.empty() ? 0 : pieces.front().begin;
  for (size_t end : ends) {
    if (end > begin) out.push_back(CodePointRange{begin, end});
    begin = end;
  }
  return out;
}

}  // namespace kvlab::tokenizer
