// HfAddedTokenSplitter: finds a tokenizer.json's added tokens in text before anything
// else sees it, as `tokenizers` does: leftmost match first, the longest token at that
// position, matches never overlapping; a token with single_word is passed over (and the
// search goes on after it) where a word character (\w) touches it on either side; a
// token with lstrip (rstrip) also takes the whitespace before (after) it. Every added
// token is matched, special or not (what `tokenizers` does unless asked to split special
// tokens as text).
#ifndef KVLAB_EVAL_TOKENIZER_HF_ADDED_TOKENS_H_
#define KVLAB_EVAL_TOKENIZER_HF_ADDED_TOKENS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "eval/tokenizer/special_token_split.h"

namespace kvlab::tokenizer {

struct HfAddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;     // Control token (decoded as its literal text either way).
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;  // Matched only where no word character touches it.
  bool normalized = false;  // Matched in normalized rather than raw text.
};

class HfAddedTokenSplitter {
 public:
  HfAddedTokenSplitter() = default;
  // `patterns[i]` is the text matched for `tokens[i]` (its content, or for a normalized
  // token its normalized content); empty patterns never match.
  HfAddedTokenSplitter(const std::vector<HfAddedToken>& tokens,
                       const std::vector<std::string>& patterns);

  // The pieces of `text` in order: added tokens (id >= 0) and the text between them
  // (id < 0, never empty), viewing into `text`.
  std::vector<TextPiece> Split(absl::string_view text) const;
  bool empty() const { return count_ == 0; }

 private:
  struct Pattern {
    std::string text;
    int32_t id;
    bool lstrip;
    bool rstrip;
    bool single_word;
  };
  std::vector<std::vector<Pattern>> by_first_byte_;  // Each longest first.
  size_t count_ = 0;
};

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_HF_ADDED_TOKENS_H_
