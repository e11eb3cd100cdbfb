#include "eval/tokenizer/hf_pre_tokenizer.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "eval/tokenizer/byte_alphabet.h"
#include "eval/tokenizer/unicode_text.h"
#include "unicode/regex.h"
#include "unicode/unistr.h"

namespace kvlab::tokenizer {

struct HfPreTokenizer::IcuRegex {
  std::unique_ptr<icu::RegexPattern> pattern;
};

namespace {

// The Split regexes kvlab runs, as tokenizer.json files write them.
constexpr absl::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr absl::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr absl::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Oniguruma (which `tokenizers` uses) reads \s as the White_Space property; ICU's \s is
// [\t\n\f\r\p{Z}], which lacks U+000B and U+0085. The known patterns use \s and \S only
// as whole escapes, so spelling them out is exact.
std::string ForIcu(absl::string_view regex) {
  return absl::StrReplaceAll(regex, {{R"(\s)", R"(\p{White_Space})"},
                                     {R"(\S)", R"(\P{White_Space})"}});
}

std::string ToUtf8(const icu::UnicodeString& text, int32_t begin, int32_t end) {
  std::string out;
  text.tempSubStringBetween(begin, end).toUTF8String(out);
  return out;
}

// A stretch of a word that does or does not match a step's pattern; a word's stretches
// cover it in order, each beginning where the one before it ends.
struct Stretch {
  size_t end;
  bool is_match;
};

// The stretches of `text` that match `step`'s pattern and those between them; `gpt2`
// and `regex` run the step's regex when it has one.
std::vector<Stretch> FindMatches(const HfPreTokenizerStep& step, const PreTokenizer* gpt2,
                                 const icu::RegexPattern* regex, absl::string_view text) {
  std::vector<Stretch> stretches;
  // Text up to `begin`, then a match up to `end`.
  auto add_match = [&stretches](size_t begin, size_t end) {
    const size_t last = stretches.empty() ? 0 : stretches.back().end;
    if (begin > last) stretches.push_back(Stretch{begin, false});
    stretches.push_back(Stretch{end, true});
  };
  if (gpt2 != nullptr) {
    // GPT-2's regex matches every character, so its words are its matches.
    size_t end = 0;
    for (const std::string& word : gpt2->Split(text)) {
      end += word.size();
      stretches.push_back(Stretch{end, true});
    }
  } else if (regex != nullptr) {
    const icu::UnicodeString utf16 = icu::UnicodeString::fromUTF8(text);
    UErrorCode error = U_ZERO_ERROR;
    std::unique_ptr<icu::RegexMatcher> matcher(regex->matcher(utf16, error));
    // ICU reports UTF-16 offsets; stretches are in UTF-8 bytes. The two agree only on
    // well-formed text (ICU reads each ill-formed byte as U+FFFD, three bytes), which
    // is why HfTokenizer repairs its input first.
    int32_t last = 0;
    size_t last_byte = 0;
    while (U_SUCCESS(error) && matcher->find(error)) {
      const int32_t begin = matcher->start(error);
      const int32_t end = matcher->end(error);
      const size_t begin_byte = last_byte + ToUtf8(utf16, last, begin).size();
      const size_t end_byte = begin_byte + ToUtf8(utf16, begin, end).size();
      add_match(begin_byte, end_byte);
      last = end;
      last_byte = end_byte;
    }
  } else if (step.kind == HfPreTokenizerStep::Kind::kSplit) {
    for (size_t at = text.find(step.literal); at != absl::string_view::npos;
         at = text.find(step.literal, at + step.literal.size())) {
      add_match(at, at + step.literal.size());
    }
  } else {
    // Digits and Metaspace: each character of a class (\p{N}, the replacement) is a
    // match of its own.
    for (size_t at = 0; at < text.size();) {
      const size_t length = Utf8SequenceLength(text, at);
      const absl::string_view character = text.substr(at, length);
      const bool match = step.kind == HfPreTokenizerStep::Kind::kDigits
                             ? IsNumber(DecodeUtf8(character)[0])
                             : character == step.replacement;
      if (match) add_match(at, at + length);
      at += length;
    }
  }
  const size_t last = stretches.empty() ? 0 : stretches.back().end;
  if (text.size() > last) stretches.push_back(Stretch{text.size(), false});
  if (step.kind == HfPreTokenizerStep::Kind::kSplit && step.invert) {
    for (Stretch& stretch : stretches) stretch.is_match = !stretch.is_match;
  }
  return stretches;
}

// The pieces of a word a split keeps, as [begin, end) byte ranges, from its stretches,
// as `tokenizers`' NormalizedString::split computes them: a match joins the piece before
// it (kMergedWithPrevious) or after it (kMergedWithNext) only when that piece is no
// match; kContiguous joins neighbours that agree. Empty pieces are dropped, as
// PreTokenizedString::split drops them.
std::vector<std::pair<size_t, size_t>> ApplyBehavior(const std::vector<Stretch>& stretches,
                                                     HfSplitBehavior behavior) {
  struct Piece {
    size_t begin;
    size_t end;
    bool removed;
  };
  std::vector<Piece> pieces;
  size_t begin = 0;
  for (size_t i = 0; i < stretches.size(); ++i) {
    const auto [end, is_match] = stretches[i];
    const bool previous_match = i > 0 && stretches[i - 1].is_match;
    const bool joins_previous =
        i > 0 &&
        ((behavior == HfSplitBehavior::kContiguous && is_match == previous_match) ||
         (behavior == HfSplitBehavior::kMergedWithPrevious && is_match && !previous_match) ||
         (behavior == HfSplitBehavior::kMergedWithNext && previous_match && !is_match));
    if (joins_previous) {
      pieces.back().end = end;
    } else {
      pieces.push_back(Piece{begin, end, behavior == HfSplitBehavior::kRemoved && is_match});
    }
    begin = end;
  }
  std::vector<std::pair<size_t, size_t>> kept;
  for (const Piece& piece : pieces) {
    if (!piece.removed && piece.end > piece.begin) kept.emplace_back(piece.begin, piece.end);
  }
  return kept;
}

}  // namespace

absl::StatusOr<HfPreTokenizer> HfPreTokenizer::Create(std::vector<HfPreTokenizerStep> steps) {
  HfPreTokenizer pre;
  for (size_t i = 0; i < steps.size(); ++i) {
    Compiled compiled{std::move(steps[i]), nullptr, nullptr};
    const HfPreTokenizerStep& step = compiled.step;
    if (step.kind == HfPreTokenizerStep::Kind::kByteLevel && i + 1 != steps.size()) {
      return absl::UnimplementedError(
          "ByteLevel must be the last pre-tokenizer step (kvlab writes bytes in GPT-2's "
          "alphabet only once the words are split)");
    }
    const bool split = step.kind == HfPreTokenizerStep::Kind::kSplit;
    if (split && step.regex.empty() == step.literal.empty()) {
      return absl::InvalidArgumentError("a Split needs one pattern, a regex or a string");
    }
    if (step.kind == HfPreTokenizerStep::Kind::kMetaspace &&
        (step.replacement.empty() ||
         Utf8SequenceLength(step.replacement, 0) != step.replacement.size())) {
      return absl::InvalidArgumentError(
          absl::StrFormat("Metaspace replacement '%s' is not one character",
                          absl::Utf8SafeCEscape(step.replacement)));
    }
    const bool gpt2 = (step.kind == HfPreTokenizerStep::Kind::kByteLevel && step.use_regex) ||
                      (split && step.regex == kGpt2Regex);
    if (gpt2) {
      absl::StatusOr<PreTokenizer> p = PreTokenizer::ForName("gpt-2");
      if (!p.ok()) return p.status();
      compiled.gpt2 = std::make_shared<const PreTokenizer>(*std::move(p));
    } else if (split && !step.regex.empty()) {
      if (step.regex != kLlama3Regex && step.regex != kQwen2Regex) {
        return absl::UnimplementedError(absl::StrFormat(
            "Split regex '%s' is not one kvlab runs (known: GPT-2's, Llama 3's and Qwen2's)",
            absl::Utf8SafeCEscape(step.regex)));
      }
      UErrorCode error = U_ZERO_ERROR;
      UParseError parse_error;
      auto regex = std::make_shared<IcuRegex>();
      regex->pattern.reset(icu::RegexPattern::compile(
          icu::UnicodeString::fromUTF8(ForIcu(step.regex)), 0, parse_error, error));
      if (U_FAILURE(error)) {
        return absl::InternalError(absl::StrFormat("ICU cannot compile Split regex '%s': %s",
                                                   step.regex, u_errorName(error)));
      }
      compiled.regex = std::move(regex);
    }
    if (step.kind == HfPreTokenizerStep::Kind::kByteLevel) pre.byte_to_symbol_ = MakeByteAlphabet();
    pre.steps_.push_back(std::move(compiled));
  }
  return pre;
}

bool HfPreTokenizer::byte_level() const { return !byte_to_symbol_.empty(); }

std::vector<std::string> HfPreTokenizer::Split(absl::string_view text, bool at_text_start) const {
  std::vector<Word> words;
  if (!text.empty()) words.push_back(Word{std::string(text), at_text_start});
  for (const Compiled& step : steps_) RunStep(step, words);
  std::vector<std::string> out;
  out.reserve(words.size());
  for (Word& word : words) {
    if (!byte_level()) {
      out.push_back(std::move(word.text));
      continue;
    }
    std::string mapped;
    for (unsigned char byte : word.text) mapped += byte_to_symbol_[byte];
    out.push_back(std::move(mapped));
  }
  return out;
}

void HfPreTokenizer::RunStep(const Compiled& compiled, std::vector<Word>& words) const {
  using Kind = HfPreTokenizerStep::Kind;
  const HfPreTokenizerStep& step = compiled.step;
  HfSplitBehavior behavior = step.behavior;
  switch (step.kind) {
    case Kind::kByteLevel:
      behavior = HfSplitBehavior::kIsolated;
      break;
    case Kind::kDigits:
      behavior = step.individual_digits ? HfSplitBehavior::kIsolated : HfSplitBehavior::kContiguous;
      break;
    case Kind::kMetaspace:
      behavior = HfSplitBehavior::kMergedWithNext;
      break;
    case Kind::kSplit:
      break;
  }
  std::vector<Word> out;
  out.reserve(words.size());
  for (Word& word : words) {
    if (step.kind == Kind::kByteLevel && step.add_prefix_space &&
        !absl::StartsWith(word.text, " ")) {
      word.text.insert(0, " ");
    }
    if (step.kind == Kind::kMetaspace) {
      word.text = absl::StrReplaceAll(word.text, {{" ", step.replacement}});
      const bool prepend =
          step.prepend == HfPreTokenizerStep::Prepend::kAlways ||
          (step.prepend == HfPreTokenizerStep::Prepend::kFirst && word.at_text_start);
      if (prepend && !absl::StartsWith(word.text, step.replacement)) {
        word.text.insert(0, step.replacement);
      }
    }
    const bool splits = (step.kind == Kind::kByteLevel && step.use_regex) ||
                        (step.kind == Kind::kMetaspace && step.split) ||
                        step.kind == Kind::kDigits || step.kind == Kind::kSplit;
    if (!splits) {
      out.push_back(std::move(word));
      continue;
    }
    // Only the piece at the word's start can be at the text's start (Metaspace "first").
    for (const auto& [begin, end] : ApplyBehavior(
             FindMatches(step, compiled.gpt2.get(),
                         compiled.regex == nullptr ? nullptr : compiled.regex->pattern.get(),
                         word.text),
             behavior)) {
      out.push_back(Word{word.text.substr(begin, end - begin), begin == 0 && word.at_text_start});
    }
  }
  words = std::move(out);
}

}  // namespace kvlab::tokenizer
