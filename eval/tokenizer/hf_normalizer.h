// HfNormalizer: the normalizers of a Hugging Face tokenizer.json that kvlab runs, applied
// in order to each stretch of text between added tokens, as `tokenizers` applies them:
//   NFC, NFD, NFKC, NFKD   Unicode normalization (ICU);
//   Replace                every occurrence of a literal string replaced (left to right);
//   Prepend                a string put before any non-empty text.
// (SentencePiece-style files use Replace(" " -> "▁") and Prepend("▁"); Qwen2 uses NFC.)
#ifndef KVLAB_EVAL_TOKENIZER_HF_NORMALIZER_H_
#define KVLAB_EVAL_TOKENIZER_HF_NORMALIZER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace kvlab::tokenizer {

struct HfNormalizerStep {
  enum class Kind { kNfc, kNfd, kNfkc, kNfkd, kReplace, kPrepend };
  Kind kind;
  std::string pattern;  // kReplace: the literal string replaced.
  std::string content;  // kReplace: its replacement; kPrepend: the string prepended.
};

class HfNormalizer {
 public:
  HfNormalizer() = default;
  explicit HfNormalizer(std::vector<HfNormalizerStep> steps) : steps_(std::move(steps)) {}

  // `text` (well-formed UTF-8) after every step.
  std::string Apply(absl::string_view text) const;
  const std::vector<HfNormalizerStep>& steps() const { return steps_; }

 private:
  std::vector<HfNormalizerStep> steps_;
};

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_HF_NORMALIZER_H_
