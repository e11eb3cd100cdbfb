// Splits text at literal occurrences of special tokens before a tokenizer's own
// algorithm sees it, as llama.cpp does.
//
// Tokens are tried longest first (ties by id); each one splits every remaining text
// piece at its leftmost non-overlapping occurrences. What is left between matches is
// text for the tokenizer proper. Which tokens take part is the caller's choice:
// llama.cpp, when not asked to parse special tokens (its default for perplexity),
// splits at user-defined tokens only (for Gemma 3: runs of newlines, spaces and tabs,
// and some HTML tags).
#ifndef KVLAB_EVAL_TOKENIZER_SPECIAL_TOKEN_SPLIT_H_
#define KVLAB_EVAL_TOKENIZER_SPECIAL_TOKEN_SPLIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace kvlab::tokenizer {

// One piece of the split text: either a special token's id, or text (id < 0).
struct TextPiece {
  int32_t id = -1;
  absl::string_view text;
};

class SpecialTokenSplitter {
 public:
  // `tokens[i]` is the text of token `ids[i]`; empty texts are ignored.
  SpecialTokenSplitter(const std::vector<std::string>& tokens, const std::vector<int32_t>& ids);

  // The pieces of `text`, in order; text pieces view into `text`.
  std::vector<TextPiece> Split(absl::string_view text) const;

 private:
  struct Special {
    std::string text;
    int32_t id;
  };
  std::vector<Special> specials_;  // Longest first, then by id.
};

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_SPECIAL_TOKEN_SPLIT_H_
