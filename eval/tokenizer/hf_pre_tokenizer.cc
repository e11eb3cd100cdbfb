#include "eval/tokenizer/hf_pre_tokenizer.h"

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
    const bool gpt2 = (step.kind == HfPreTokenizerStep::Kind::kByteLevel && step.use_regex) ||
                      (step.kind == HfPreTokenizerStep::Kind::kSplit && step.regex == kGpt2Regex);
    if (gpt2) {
      absl::StatusOr<PreTokenizer> p = PreTokenizer::ForName("gpt2");
      if (!p.ok()) return p.status();
      compiled.gpt2 = std::make_shared<const PreTokenizer>(*std::move(p));
    } else if (step.kind == HfPreTokenizerStep::Kind::kSplit) {
      if (step.regex != kLlama3Regex && step.regex != kQwen2Regex) {
        return absl::UnimplementedError(absl::StrFormat(
            "Split regex '%s' is not one kvlab runs (known: GPT-2's, Llama 3's and Qwen2's)",
            step.regex));
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
  const HfPreTokenizerStep& step = compiled.step;
  std::vector<Word> out;
  out.reserve(words.size());
  // Appends text[begin, end) of a word as a word of its own (none if empty).
  auto emit = [&out](const Word& from, absl::string_view piece, bool first) {
    if (!piece.empty()) out.push_back(Word{std::string(piece), first && from.at_text_start});
  };
  for (Word& word : words) {
    switch (step.kind) {
      case HfPreTokenizerStep::Kind::kByteLevel:
      case HfPreTokenizerStep::Kind::kSplit: {
        if (step.kind == HfPreTokenizerStep::Kind::kByteLevel && step.add_prefix_space &&
            !absl::StartsWith(word.text, " ")) {
          word.text.insert(0, " ");
        }
        if (compiled.gpt2 != nullptr) {
          bool first = true;
          for (std::string& piece : compiled.gpt2->Split(word.text)) {
            emit(word, piece, first);
            first = false;
          }
        } else if (compiled.regex != nullptr) {
          const icu::UnicodeString text = icu::UnicodeString::fromUTF8(word.text);
          UErrorCode error = U_ZERO_ERROR;
          std::unique_ptr<icu::RegexMatcher> matcher(
              compiled.regex->pattern->matcher(text, error));
          int32_t last = 0;
          while (U_SUCCESS(error) && matcher->find(error)) {
            const int32_t begin = matcher->start(error);
            const int32_t end = matcher->end(error);
            if (begin > last) emit(word, ToUtf8(text, last, begin), last == 0);
            if (end > begin) emit(word, ToUtf8(text, begin, end), begin == 0);
            last = std::max(last, end);
          }
          if (last < text.length()) emit(word, ToUtf8(text, last, text.length()), last == 0);
        } else {
          out.push_back(std::move(word));
        }
        break;
      }
      case HfPreTokenizerStep::Kind::kDigits: {
        const std::vector<char32_t> cps = DecodeUtf8(word.text);
        std::string piece;
        bool first = true;
        bool piece_is_number = false;
        for (char32_t cp : cps) {
          const bool number = IsNumber(cp);
          // A digit ends the piece before it; with individual digits, also itself.
          if (!piece.empty() &&
              (number != piece_is_number || (number && step.individual_digits))) {
            emit(word, piece, first);
            first = false;
            piece.clear();
          }
          AppendUtf8(cp, piece);
          piece_is_number = number;
        }
        emit(word, piece, first);
        break;
      }
      case HfPreTokenizerStep::Kind::kMetaspace: {
        std::string text = absl::StrReplaceAll(word.text, {{" ", step.replacement}});
        const bool prepend =
            step.prepend == HfPreTokenizerStep::Prepend::kAlways ||
            (step.prepend == HfPreTokenizerStep::Prepend::kFirst && word.at_text_start);
        if (prepend && !absl::StartsWith(text, step.replacement)) {
          text.insert(0, step.replacement);
        }
        if (!step.split || step.replacement.empty()) {
          emit(word, text, true);
          break;
        }
        // Each replacement starts a word (the delimiter merged with what follows).
        size_t start = 0;
        for (size_t at = text.find(step.replacement, 1); at != std::string::npos;
             at = text.find(step.replacement, at + step.replacement.size())) {
          if (at > start) {
            emit(word, absl::string_view(text).substr(start, at - start), start == 0);
            start = at;
          }
        }
        emit(word, absl::string_view(text).substr(start), start == 0);
        break;
      }
    }
  }
  words = std::move(out);
}

}  // namespace kvlab::tokenizer
