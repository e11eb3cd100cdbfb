// HfPreTokenizer: the pre-tokenizers of a Hugging Face tokenizer.json that kvlab runs,
// splitting each stretch of text between added tokens into the words the BPE model
// encodes one at a time, as `tokenizers` splits them. Steps run in order, each on every
// word the previous one produced:
//   ByteLevel  optionally a space put before a word not starting with one, then (with
//              use_regex) GPT-2's regex; the words' bytes are then written in GPT-2's
//              byte alphabet (byte_alphabet.h), so ByteLevel must come last;
//   Digits     each \p{N} character (individual_digits) or each run of them isolated;
//   Split      a literal string's or a regex's matches, kept as the behavior says
//              (HfSplitBehavior), or with invert the text between them; the regexes
//              kvlab knows are GPT-2's (run by pre_tokenizer.h's code), Llama 3's and
//              Qwen2's (run by ICU's regex engine, with \s and \S as the White_Space
//              property, as Oniguruma reads them in `tokenizers`); any other regex is an
//              error naming it (Gemma's files split at the literal " ", after a
//              normalizer has replaced every space, which leaves nothing to split);
//   Metaspace  spaces written as the replacement (U+2581), the replacement put first
//              (prepend_scheme "always", or "first": only at the start of the text), and
//              with split, a word begun at each replacement.
//
//   KVLAB_ASSIGN_OR_RETURN(HfPreTokenizer pre, HfPreTokenizer::Create(steps));
//   for (std::string& word : pre.Split("Hello world", /*at_text_start=*/true)) ...
#ifndef KVLAB_EVAL_TOKENIZER_HF_PRE_TOKENIZER_H_
#define KVLAB_EVAL_TOKENIZER_HF_PRE_TOKENIZER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/tokenizer/pre_tokenizer.h"

namespace kvlab::tokenizer {

// What a split keeps of a pattern's matches (`tokenizers`' SplitDelimiterBehavior);
// for the pattern "-" in "the-final--countdown":
//   kRemoved             "the" "final" "countdown"
//   kIsolated            "the" "-" "final" "-" "-" "countdown"
//   kMergedWithPrevious  "the-" "final-" "-" "countdown"
//   kMergedWithNext      "the" "-final" "-" "-countdown"
//   kContiguous          "the" "-" "final" "--" "countdown"
enum class HfSplitBehavior {
  kRemoved,
  kIsolated,
  kMergedWithPrevious,
  kMergedWithNext,
  kContiguous
};

struct HfPreTokenizerStep {
  enum class Kind { kByteLevel, kDigits, kSplit, kMetaspace };
  enum class Prepend { kAlways, kFirst, kNever };
  Kind kind;
  bool add_prefix_space = false;   // ByteLevel.
  bool use_regex = true;           // ByteLevel.
  bool individual_digits = false;  // Digits.
  // Split: the pattern as tokenizer.json writes it, {"Regex": regex} or {"String": literal}
  // (exactly one is non-empty), what becomes of its matches, and whether the text
  // between them is taken as the matches instead.
  std::string regex;
  std::string literal;
  HfSplitBehavior behavior = HfSplitBehavior::kIsolated;
  bool invert = false;
  std::string replacement;             // Metaspace: one character.
  Prepend prepend = Prepend::kAlways;  // Metaspace.
  bool split = true;               // Metaspace.
};

class HfPreTokenizer {
 public:
  // No steps: every stretch of text is one word.
  HfPreTokenizer() = default;
  // Fails (Unimplemented) for a Split regex kvlab does not know, or a ByteLevel that is
  // not the last step; (InvalidArgument) for a Split without a pattern or a Metaspace
  // replacement that is not one character.
  static absl::StatusOr<HfPreTokenizer> Create(std::vector<HfPreTokenizerStep> steps);

  // The words of `text` (well-formed UTF-8), already in GPT-2's byte alphabet when
  // byte_level(). `at_text_start`: `text` begins the whole input (Metaspace "first").
  std::vector<std::string> Split(absl::string_view text, bool at_text_start) const;
  // Whether a ByteLevel step writes words in GPT-2's byte alphabet.
  bool byte_level() const;

 private:
  struct IcuRegex;  // ICU's compiled pattern, kept out of this header.
  struct Word {
    std::string text;
    bool at_text_start;
  };

  // A step ready to run: its description and what it runs with.
  struct Compiled {
    HfPreTokenizerStep step;
    std::shared_ptr<const PreTokenizer> gpt2;            // GPT-2's regex.
    std::shared_ptr<const IcuRegex> regex;    // Llama 3's or Qwen2's.
  };
  void RunStep(const Compiled& step, std::vector<Word>& words) const;

  std::vector<Compiled> steps_;
  std::vector<std::string> byte_to_symbol_;
};

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_HF_PRE_TOKENIZER_H_
