// Tokenizer: text to token ids and back, whatever the vocabulary's algorithm.
//
// Implementations: BpeTokenizer (byte-level BPE, `tokenizer.ggml.model = gpt2`) and
// SpmTokenizer (SentencePiece-style, `tokenizer.ggml.model = llama`). Make one from a
// GGUF file with TokenizerFromGguf (gguf_tokenizer.h).
//
// Encode() may cache and is therefore not const; a tokenizer is thread-compatible.
#ifndef KVLAB_EVAL_TOKENIZER_TOKENIZER_H_
#define KVLAB_EVAL_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kvlab::tokenizer {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Token ids of `text`. With `add_bos`, the BOS id comes first.
  virtual std::vector<int32_t> Encode(absl::string_view text, bool add_bos) = 0;
  // The text of `ids` (special tokens as their literal text).
  virtual std::string Decode(const std::vector<int32_t>& ids) const = 0;

  virtual int32_t vocab_size() const = 0;
  // Each id's token as the vocabulary file writes it (GGUF's tokenizer.ggml.tokens,
  // tokenizer.json's model.vocab keys and added tokens' content): GPT-2's byte alphabet
  // for byte-level BPE, U+2581 for spaces in SentencePiece-style vocabularies; an id no
  // token names is empty. vocab_size() entries.
  virtual const std::vector<std::string>& tokens() const = 0;
  virtual int32_t bos_id() const = 0;
  virtual int32_t eos_id() const = 0;
  // Whether the model wants BOS prepended (`tokenizer.ggml.add_bos_token`).
  virtual bool add_bos() const = 0;
};

// Checks a GGUF vocabulary's special tokens, the part every tokenizer shares: BOS and
// EOS ids (-1 when absent) inside a vocabulary of `vocab_size` tokens, and a BOS id
// whenever `add_bos` asks for one. Errors name the GGUF key.
absl::Status CheckSpecialTokenIds(int64_t vocab_size, int32_t bos_id, int32_t eos_id,
                                  bool add_bos);

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_TOKENIZER_H_
