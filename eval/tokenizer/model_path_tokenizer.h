// The tokenizer of a model, wherever the model keeps it:
//   a GGUF file                      its `tokenizer.ggml.*` metadata (gguf_tokenizer.h);
//   a tokenizer.json file            that file, with tokenizer_config.json beside it;
//   a directory (a Hugging Face      its tokenizer.json (and tokenizer_config.json).
//   model directory)
//
//   KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tokenizer,
//                          TokenizerFromModelPath("third_party/models/gemma-3-270m"));
#ifndef KVLAB_EVAL_TOKENIZER_MODEL_PATH_TOKENIZER_H_
#define KVLAB_EVAL_TOKENIZER_MODEL_PATH_TOKENIZER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "eval/tokenizer/tokenizer.h"

namespace kvlab::tokenizer {

// Errors name the path and what was expected there.
absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromModelPath(const std::string& path);

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_MODEL_PATH_TOKENIZER_H_
