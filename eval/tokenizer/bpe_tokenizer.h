// BpeTokenizer: the byte-level BPE tokenizer stored in a GGUF file.
//
// Reads `tokenizer.ggml.{model,pre,tokens,merges,token_type,bos_token_id,
// eos_token_id,add_bos_token}`. Encoding follows llama.cpp: pre-tokenize (see
// pre_tokenizer.h), map each word's bytes to GPT-2's printable byte alphabet, take a
// word that is a token of its own as that token where the pre-tokenizer says so
// (ignore_merges), else merge the lowest-ranked adjacent pair (leftmost on ties) until
// none applies, and look the resulting symbols up in the vocabulary, falling back to one
// token per byte.
//
//   KVLAB_ASSIGN_OR_RETURN(BpeTokenizer tokenizer, BpeTokenizer::FromGguf(*file));
//   std::vector<int32_t> ids = tokenizer.Encode("Hello world");
//
// A byte whose stand-in is not in the vocabulary cannot be encoded and is skipped, as
// llama.cpp skips it (SmolLM2's vocabulary lacks 21 of the 256, among them \x04 and
// the lead byte 0xF1 of U+40000..U+7FFFF); HasByteToken() says which bytes survive.
//
// Control tokens in the text are not parsed: "<|im_start|>" is encoded as plain text,
// as llama.cpp does when it is not asked to parse special tokens. User-defined tokens
// (type 4: DeepSeek's single accented letters, GPT-NeoX's runs of spaces) are split out
// of the text first and encoded as themselves, as llama.cpp always does
// (special_token_split.h).
// Encode() is thread-compatible (it caches words); the tokenizer is movable.
#ifndef KVLAB_EVAL_TOKENIZER_BPE_TOKENIZER_H_
#define KVLAB_EVAL_TOKENIZER_BPE_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/gguf/gguf_file.h"
#include "eval/tokenizer/pre_tokenizer.h"
#include "eval/tokenizer/special_token_split.h"
#include "eval/tokenizer/tokenizer.h"

namespace kvlab::tokenizer {

// What a GGUF tokenizer describes, independent of the file it came from.
struct BpeVocabulary {
  std::vector<std::string> tokens;  // In GPT-2's byte alphabet.
  std::vector<std::string> merges;  // "left right", in rank order.
  std::vector<int32_t> token_types;  // 1 normal, 2 unknown, 3 control, 4 user, 6 byte.
  // tokenizer.ggml.pre; llama.cpp takes a GGUF without it as "default".
  std::string pre_tokenizer = "default";
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  bool add_bos = false;
};

class BpeTokenizer : public Tokenizer {
 public:
  // Builds the tokenizer of a GGUF file; errors name the file and the key at fault.
  static absl::StatusOr<BpeTokenizer> FromGguf(const gguf::GgufFile& file);
  // Builds a tokenizer from an explicit vocabulary (tests, synthetic models).
  static absl::StatusOr<BpeTokenizer> FromVocabulary(BpeVocabulary vocabulary);

  std::vector<int32_t> Encode(absl::string_view text, bool add_bos = false) override;
  std::string Decode(const std::vector<int32_t>& ids) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(vocabulary_.tokens.size()); }
  const std::vector<std::string>& tokens() const override { return vocabulary_.tokens; }
  int32_t bos_id() const override { return vocabulary_.bos_id; }
  int32_t eos_id() const override { return vocabulary_.eos_id; }
  bool add_bos() const override { return vocabulary_.add_bos; }
  // Whether `byte` has a token of its own; a text of such bytes only decodes back to
  // itself.
  bool HasByteToken(uint8_t byte) const { return token_ids_.contains(byte_to_symbol_[byte]); }

 private:
  BpeTokenizer(BpeVocabulary vocabulary, PreTokenizer pre_tokenizer);
  // Appends the ids of one pre-tokenized word (raw UTF-8) to `out`.
  void EncodeWord(const std::string& word, std::vector<int32_t>& out);

  BpeVocabulary vocabulary_;
  PreTokenizer pre_tokenizer_;
  absl::flat_hash_map<std::string, int32_t> token_ids_;
  absl::flat_hash_map<std::string, int32_t> merge_ranks_;
  // GPT-2's byte alphabet: byte -> UTF-8 of its printable stand-in, and back.
  std::vector<std::string> byte_to_symbol_;
  absl::flat_hash_map<std::string, std::vector<int32_t>> word_cache_;
  SpecialTokenSplitter user_defined_splitter_;
};

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_BPE_TOKENIZER_H_
