// Pre-tokenizers: split text into the words that BPE then encodes one at a time.
//
// A GGUF names its pre-tokenizer in `tokenizer.ggml.pre`; kvlab implements the ones
// below with llama.cpp's semantics, so that token ids match llama.cpp's:
//   "gpt2", "default"  the GPT-2 regex
//       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"
//       each \p{N} code point split off on its own first, then the GPT-2 regex on every
//       piece (the lookahead of \s+(?!\S) does not see past a piece's end).
#ifndef KVLAB_EVAL_TOKENIZER_PRE_TOKENIZER_H_
#define KVLAB_EVAL_TOKENIZER_PRE_TOKENIZER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvlab::tokenizer {

class PreTokenizer {
 public:
  // Returns the pre-tokenizer named by `tokenizer.ggml.pre`, or Unimplemented listing
  // the supported names.
  static absl::StatusOr<PreTokenizer> ForName(absl::string_view name);

  // Splits `text` into words. Concatenated, the words give back `text`, except that
  // malformed UTF-8 bytes come back as U+FFFD.
  std::vector<std::string> Split(absl::string_view text) const;

 private:
  explicit PreTokenizer(bool split_digits) : split_digits_(split_digits) {}
  bool split_digits_;
};

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_PRE_TOKENIZER_H_
