// The content hash that fingerprints a model in run records: a GGUF file's bytes, or
// everything a Hugging Face directory's model and tokenizer are read from.
#ifndef KVLAB_EXPERIMENTS_MODEL_HASH_H_
#define KVLAB_EXPERIMENTS_MODEL_HASH_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/model/load_model.h"

namespace kvlab::experiments {

// HashFile() of a GGUF file (so runs recorded before directories were supported still
// match); HashFiles() of a directory's config.json, safetensors, tokenizer.json,
// tokenizer_config.json and chat_template.jinja (those present). With a tokenizer read
// from a file of its own (`tokenizer_path`, an experiment's tokenizer_path, resolved;
// empty for the model's own), HashFiles() of those and TokenizerFiles(tokenizer_path).
absl::StatusOr<std::string> HashModel(const model::ModelFiles& files,
                                      const std::string& tokenizer_path = "");

// The files a tokenizer at `path` (TokenizerFromModelPath) is read from: a directory's
// tokenizer.json, a tokenizer.json and the tokenizer_config.json beside it (if there is
// one), or the file itself.
std::vector<std::string> TokenizerFiles(const std::string& path);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_MODEL_HASH_H_
