// SpmTokenizer: the SentencePiece-style tokenizer stored in GGUF files
// (`tokenizer.ggml.model = llama`), encoding as llama.cpp does.
//
// Reads `tokenizer.ggml.{tokens,scores,token_type,bos_token_id,eos_token_id,
// add_bos_token,add_space_prefix}`. Encoding: split the text at user-defined tokens
// (special_token_split.h); in each remaining piece, optionally prefix a space (only at
// the start and after a special token), write spaces as U+2581, start from one symbol
// per UTF-8 character and repeatedly merge the adjacent pair whose concatenation is the
// highest-scoring vocabulary entry (leftmost on ties); a final symbol not in the
// vocabulary becomes its bytes' `<0xNN>` tokens (byte fallback).
//
//   KVLAB_ASSIGN_OR_RETURN(SpmTokenizer tokenizer, SpmTokenizer::FromGguf(*file));
//   std::vector<int32_t> ids = tokenizer.Encode("Hello world", tokenizer.add_bos());
#ifndef KVLAB_EVAL_TOKENIZER_SPM_TOKENIZER_H_
#define KVLAB_EVAL_TOKENIZER_SPM_TOKENIZER_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/gguf/gguf_file.h"
#include "eval/tokenizer/special_token_split.h"
#include "eval/tokenizer/tokenizer.h"

namespace kvlab::tokenizer {

// What a SentencePiece-style GGUF tokenizer describes.
struct SpmVocabulary {
  std::vector<std::string> tokens;   // Spaces written as U+2581.
  std::vector<float> scores;         // Higher merges first.
  std::vector<int32_t> token_types;  // 1 normal, 2 unknown, 3 control, 4 user, 6 byte.
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  bool add_bos = true;           // llama.cpp's default for this tokenizer type.
  bool add_space_prefix = true;  // Likewise.
};

class SpmTokenizer : public Tokenizer {
 public:
  // Builds the tokenizer of a GGUF file; errors name the file and the key at fault.
  static absl::StatusOr<SpmTokenizer> FromGguf(const gguf::GgufFile& file);
  // Builds a tokenizer from an explicit vocabulary (tests, synthetic models).
  static absl::StatusOr<SpmTokenizer> FromVocabulary(SpmVocabulary vocabulary);

  std::vector<int32_t> Encode(absl::string_view text, bool add_bos) override;
  std::string Decode(const std::vector<int32_t>& ids) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(vocabulary_.tokens.size()); }
  const std::vector<std::string>& tokens() const override { return vocabulary_.tokens; }
  int32_t bos_id() const override { return vocabulary_.bos_id; }
  int32_t eos_id() const override { return vocabulary_.eos_id; }
  bool add_bos() const override { return vocabulary_.add_bos; }

 private:
  SpmTokenizer(SpmVocabulary vocabulary, std::array<int32_t, 256> byte_ids);
  // Appends the ids of one piece of text, spaces already written as U+2581.
  void EncodePiece(const std::string& text, std::vector<int32_t>& out) const;

  SpmVocabulary vocabulary_;
  std::array<int32_t, 256> byte_ids_;  // The id of `<0xNN>` for each byte.
  absl::flat_hash_map<std::string, int32_t> token_ids_;
  SpecialTokenSplitter splitter_;
};

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_SPM_TOKENIZER_H_
