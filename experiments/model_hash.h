// The content hash that fingerprints a model in run records: a GGUF file's bytes, or
// everything a Hugging Face directory's model and tokenizer are read from.
#ifndef KVLAB_EXPERIMENTS_MODEL_HASH_H_
#define KVLAB_EXPERIMENTS_MODEL_HASH_H_

#include <string>

#include "absl/status/statusor.h"
#include "eval/model/load_model.h"

namespace kvlab::experiments {

// HashFile() of a GGUF file (so runs recorded before directories were supported still
// match); HashFiles() of a directory's config.json, safetensors, tokenizer.json,
// tokenizer_config.json and chat_template.jinja (those present).
absl::StatusOr<std::string> HashModel(const model::ModelFiles& files);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_MODEL_HASH_H_
