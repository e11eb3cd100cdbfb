// HfTokenizer: a Hugging Face `tokenizers` pipeline with a BPE model, as a tokenizer.json
// describes it (read one with TokenizerFromJson, hf_tokenizer_json.h):
//
//   text -> added tokens split out (hf_added_tokens.h)
//        -> each stretch between them normalized (hf_normalizer.h), split again at
//           normalized added tokens, and pre-tokenized into words (hf_pre_tokenizer.h)
//        -> each word encoded by the BPE model (hf_bpe_model.h)
//   with BOS first when asked for (the post-processor's template or
//   tokenizer_config.json's add_bos_token decide add_bos()).
//
// Two kinds of files are this one class: byte-level BPE (GPT-2, Llama 3, Qwen2, SmolLM2:
// a ByteLevel pre-tokenizer) and SentencePiece-style BPE (Llama 2, Gemma: byte_fallback,
// spaces written as U+2581 by a normalizer or a Metaspace pre-tokenizer).
//
// Malformed UTF-8 in the text is read as one U+FFFD per malformed byte (text reaching
// `tokenizers` is always well-formed). Decode() undoes what the two kinds' decoders
// undo: GPT-2's byte alphabet, or U+2581 back to spaces, `<0xNN>` tokens back to
// bytes and the prepended space dropped; added tokens decode to their literal text.
#ifndef KVLAB_EVAL_TOKENIZER_HF_TOKENIZER_H_
#define KVLAB_EVAL_TOKENIZER_HF_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "eval/tokenizer/hf_added_tokens.h"
#include "eval/tokenizer/hf_bpe_model.h"
#include "eval/tokenizer/hf_normalizer.h"
#include "eval/tokenizer/hf_pre_tokenizer.h"
#include "eval/tokenizer/tokenizer.h"

namespace kvlab::tokenizer {

// Everything an HfTokenizer is built from; the parser fills it.
struct HfTokenizerParts {
  std::vector<HfAddedToken> added_tokens;
  HfNormalizer normalizer;
  HfPreTokenizer pre_tokenizer;
  HfBpeModel model;
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  bool add_bos = false;
  // For Decode: the string spaces are written as (U+2581), empty for byte-level files;
  // and whether a leading one was added to the text.
  std::string space_mark;
  bool prepends_space_mark = false;
};

class HfTokenizer : public Tokenizer {
 public:
  explicit HfTokenizer(HfTokenizerParts parts);

  std::vector<int32_t> Encode(absl::string_view text, bool add_bos) override;
  std::string Decode(const std::vector<int32_t>& ids) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(id_to_token_.size()); }
  const std::vector<std::string>& tokens() const override { return id_to_token_; }
  int32_t bos_id() const override { return parts_.bos_id; }
  int32_t eos_id() const override { return parts_.eos_id; }
  bool add_bos() const override { return parts_.add_bos; }

 private:
  void EncodeText(absl::string_view text, bool at_text_start, std::vector<int32_t>& out);

  HfTokenizerParts parts_;
  HfAddedTokenSplitter raw_splitter_;         // Tokens with normalized == false.
  HfAddedTokenSplitter normalized_splitter_;  // Tokens with normalized == true.
  std::vector<std::string> id_to_token_;
  std::vector<bool> is_added_;
};

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_HF_TOKENIZER_H_
