// The tokenizer a GGUF file describes, chosen by `tokenizer.ggml.model`: "gpt2"
// (byte-level BPE, BpeTokenizer) or "llama" (SentencePiece-style, SpmTokenizer).
//
//   KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tokenizer, TokenizerFromGguf(*file));
#ifndef KVLAB_EVAL_TOKENIZER_GGUF_TOKENIZER_H_
#define KVLAB_EVAL_TOKENIZER_GGUF_TOKENIZER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "eval/gguf/gguf_file.h"
#include "eval/tokenizer/tokenizer.h"

namespace kvlab::tokenizer {

// Fails naming the file and the model for any other tokenizer type.
absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromGguf(const gguf::GgufFile& file);

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_GGUF_TOKENIZER_H_
