// Pre-tokenizers: split text into the words that BPE then encodes one at a time.
//
// A GGUF names its pre-tokenizer in `tokenizer.ggml.pre`. kvlab knows every name that
// llama.cpp accepts for byte-level BPE vocabularies and splits text as llama.cpp does
// for that name, so that token ids match llama.cpp's: one table (pre_tokenizer.cc) maps
// each name to llama.cpp's list of split patterns (regex_split.h), e.g.
//   "gpt-2", "olmo", ...      GPT-2's regex
//       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   "smollm", "starcoder", ... each \p{N} code point split off first, then GPT-2's regex
//       on every piece (the lookahead of \s+(?!\S) does not see past a piece's end);
//   "llama-bpe", "llama3", ... Llama 3's regex (numbers in threes, newlines kept apart);
//   "qwen2", "megrez", ...    Qwen2's (Llama 3's with each number on its own);
//   "default" (also a GGUF without the key): four patterns, punctuation runs first.
// Four names llama.cpp runs on raw UTF-8 instead of GPT-2's byte alphabet ("gemma4",
// "granite-embed-multi-311m", "sarvam-moe", "whitespace") are refused.
#ifndef KVLAB_EVAL_TOKENIZER_PRE_TOKENIZER_H_
#define KVLAB_EVAL_TOKENIZER_PRE_TOKENIZER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/tokenizer/regex_split.h"

namespace kvlab::tokenizer {

class PreTokenizer {
 public:
  // Returns the pre-tokenizer named by `tokenizer.ggml.pre`, or Unimplemented listing
  // the supported names.
  static absl::StatusOr<PreTokenizer> ForName(absl::string_view name);
  // Every name ForName accepts, in the table's order.
  static std::vector<std::string> SupportedNames();

  // Splits `text` into words. Concatenated, the words give back `text`, except that
  // malformed UTF-8 bytes come back as U+FFFD.
  std::vector<std::string> Split(absl::string_view text) const;

  // Whether a word that is a token of its own is encoded as that token without merges
  // (llama.cpp's ignore_merges, set for Llama 3's names among others): a vocabulary can
  // hold tokens its merges never build.
  bool ignore_merges() const { return ignore_merges_; }

  // The split patterns' regexes, in order, as llama.cpp writes them (for comparing
  // with llama.cpp's own splitting).
  const std::vector<absl::string_view>& regexes() const { return regexes_; }

 private:
  PreTokenizer(std::vector<CompiledSplitPattern> patterns, std::vector<absl::string_view> regexes,
               bool ignore_merges)
      : patterns_(std::move(patterns)),
        regexes_(std::move(regexes)),
        ignore_merges_(ignore_merges) {}
  std::vector<CompiledSplitPattern> patterns_;
  std::vector<absl::string_view> regexes_;
  bool ignore_merges_;
};

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_PRE_TOKENIZER_H_
