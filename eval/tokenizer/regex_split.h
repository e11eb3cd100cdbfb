// Split patterns of llama.cpp's BPE pre-tokenizers, run as llama.cpp runs them so that
// the words (and so the token ids) agree with its own.
//
// A pre-tokenizer is a list of patterns; each one refines the pieces the previous ones
// left: within every piece, its matches and the stretches between them all become
// pieces (nothing is dropped). How a pattern is matched depends on its engine:
//   kGpt2, kLlama3, kQwen2, kQwen35  GPT-2's, Llama 3's, Qwen2's and Qwen3.5's regexes,
//                     matched code point by code point (GPT-2's) or by ICU's regex engine
//                     (the others), with llama.cpp's character classes;
//   kKimiK2           Kimi K2's regex ([\p{Han}]+ first, then words of non-Han letters
//                     with an optional trailing contraction, numbers in threes, ...);
//   kDigitGroups      each \p{N} run cut into threes from its end, as llama.cpp cuts it:
//                     the text before a run joins the run's first group (a later
//                     pattern separates them again);
//   kNewlines         runs of '\n' and runs of anything else;
//   kThousandsCuts    SuperBPE's (?=(\d{3})+(?!\d)): a cut before each group of three
//                     ASCII digits counted from the end of a run of them, the cuts the
//                     standard library's engine finds in time quadratic in the run's
//                     length (and, past some 20,000 digits, with a stack overflow);
//   kStdRegex         any other regex, run by the C++ standard library's ECMAScript
//                     engine as llama.cpp runs it: when the regex names a Unicode
//                     category (\p{N}, \p{L}, \p{P}, \p{M}, \p{S}, \p{Lu}, ...), over the
//                     text with every non-ASCII code point replaced by one stand-in byte
//                     per category (whitespace by \v), the category written as its
//                     stand-in plus its ASCII members; otherwise over the code points,
//                     with non-ASCII whitespace replaced by \v. The replacement is why
//                     llama.cpp's \p{Lu} and \p{Ll} tell case apart in ASCII only, and why
//                     \s, \d and \w are ASCII classes there.
//
//   KVLAB_ASSIGN_OR_RETURN(CompiledSplitPattern digits,
//                          CompiledSplitPattern::Compile({Engine::kStdRegex, R"(\p{N})"}));
//   std::vector<CodePointRange> pieces = digits.Refine(cps, {{0, cps.size()}});
#ifndef KVLAB_EVAL_TOKENIZER_REGEX_SPLIT_H_
#define KVLAB_EVAL_TOKENIZER_REGEX_SPLIT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kvlab::tokenizer {

// A piece of text: code point indices [begin, end).
struct CodePointRange {
  size_t begin;
  size_t end;
  bool operator==(const CodePointRange& other) const {
    return begin == other.begin && end == other.end;
  }
};

// What llama.cpp's regexes tell apart. Its tables are Unicode 15.1; ICU 72's (Debian
// 12's) are 15.0, so the letters (CJK Extension I, U+2EBF0..U+2EE5D) and symbols
// (U+2FFC..U+2FFF, U+31EF) that 15.1 added are added here.
enum class CharCategory { kNumber, kLetter, kPunctuation, kMark, kSymbol, kOther };
CharCategory LlamaCppCategory(char32_t cp);
// llama.cpp's \s: the White_Space property.
bool IsLlamaCppWhitespace(char32_t cp);

struct SplitPattern {
  enum class Engine {
    kGpt2,
    kLlama3,
    kQwen2,
    kQwen35,
    kKimiK2,
    kDigitGroups,
    kNewlines,
    kThousandsCuts,
    kStdRegex
  };
  Engine engine;
  // The regex as llama.cpp writes it (kStdRegex runs it; the others document it).
  absl::string_view regex;
};

// A pattern ready to run (regexes compiled once).
class CompiledSplitPattern {
 public:
  // Fails (InvalidArgument) for a regex its engine cannot compile.
  static absl::StatusOr<CompiledSplitPattern> Compile(const SplitPattern& pattern);

  // The pieces of `text` (code points) that `pieces` (in order, tiling the text) become.
  std::vector<CodePointRange> Refine(absl::Span<const char32_t> text,
                                     const std::vector<CodePointRange>& pieces) const;

 private:
  struct Compiled;  // The engine's compiled regex, kept out of this header.
  explicit CompiledSplitPattern(std::shared_ptr<const Compiled> compiled)
      : compiled_(std::move(compiled)) {}
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_REGEX_SPLIT_H_
