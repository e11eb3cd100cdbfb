#include "eval/tokenizer/gguf_tokenizer.h"

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/tokenizer/bpe_tokenizer.h"
#include "eval/tokenizer/spm_tokenizer.h"

namespace kvlab::tokenizer {

absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromGguf(const gguf::GgufFile& file) {
  KVLAB_ASSIGN_OR_RETURN(const std::string model, file.GetString("tokenizer.ggml.model"));
  if (model == "gpt2") {
    KVLAB_ASSIGN_OR_RETURN(BpeTokenizer bpe, BpeTokenizer::FromGguf(file));
    return std::make_unique<BpeTokenizer>(std::move(bpe));
  }
  if (model == "llama") {
    KVLAB_ASSIGN_OR_RETURN(SpmTokenizer spm, SpmTokenizer::FromGguf(file));
    return std::make_unique<SpmTokenizer>(std::move(spm));
  }
  return absl::UnimplementedError(absl::StrFormat(
      "%s: tokenizer.ggml.model is '%s'; kvlab reads 'gpt2' (byte-level BPE) and 'llama' "
      "(SentencePiece-style)",
      file.path(), model));
}

}  // namespace kvlab::tokenizer
