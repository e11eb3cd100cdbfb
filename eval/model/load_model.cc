#include "eval/model/load_model.h"

#include <sys/stat.h>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "eval/model/gemma3_config.h"
#include "eval/model/gemma3_model.h"
#include "eval/model/llama_config.h"
#include "eval/model/llama_model.h"

namespace kvlab::model {

namespace {

// general.architecture, or an error naming the file and the supported architectures.
absl::StatusOr<std::string> SupportedArchitecture(const gguf::GgufFile& file) {
  KVLAB_ASSIGN_OR_RETURN(std::string architecture, file.GetString("general.architecture"));
  for (const std::string& supported : SupportedArchitectures()) {
    if (architecture == supported) return architecture;
  }
  return absl::UnimplementedError(absl::StrFormat(
      "%s: general.architecture is '%s'; kvlab runs %s", file.path(), architecture,
      absl::StrJoin(SupportedArchitectures(), ", ")));
}

}  // namespace

const std::vector<std::string>& SupportedArchitectures() {
  static const auto* const kArchitectures = new std::vector<std::string>{"llama", "qwen2", "gemma3"};
  return *kArchitectures;
}

absl::StatusOr<std::unique_ptr<DecoderModel>> LoadModel(const gguf::GgufFile& file,
                                                        const LoadOptions& options) {
  KVLAB_ASSIGN_OR_RETURN(const std::string architecture, SupportedArchitecture(file));
  if (architecture == "gemma3") {
    KVLAB_ASSIGN_OR_RETURN(auto model, Gemma3Model::Load(file, options));
    return std::unique_ptr<DecoderModel>(std::move(model));
  }
  KVLAB_ASSIGN_OR_RETURN(auto model, LlamaModel::Load(file, options));
  return std::unique_ptr<DecoderModel>(std::move(model));
}

absl::StatusOr<ModelInfo> ReadModelInfo(const gguf::GgufFile& file) {
  KVLAB_ASSIGN_OR_RETURN(const std::string architecture, SupportedArchitecture(file));
  if (architecture == "gemma3") {
    KVLAB_ASSIGN_OR_RETURN(const Gemma3Config c, Gemma3Config::FromGguf(file));
    return ModelInfo{architecture, c.name, c.attention_shape(), c.vocab, c.context_length};
  }
  KVLAB_ASSIGN_OR_RETURN(const LlamaConfig c, LlamaConfig::FromGguf(file));
  return ModelInfo{architecture, c.name, c.attention_shape(), c.vocab, c.context_length};
}

absl::StatusOr<std::unique_ptr<ModelFiles>> ModelFiles::Open(const std::string& path) {
  std::unique_ptr<ModelFiles> files(new ModelFiles(path));
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    KVLAB_ASSIGN_OR_RETURN(files->hf_, HfModelDirectory::Open(path));
  } else {
    KVLAB_ASSIGN_OR_RETURN(files->gguf_, gguf::GgufFile::Open(path));
  }
  return files;
}

std::vector<std::string> ModelFiles::paths() const {
  if (hf_ != nullptr) return hf_->paths();
  return {path_};
}

absl::StatusOr<std::unique_ptr<DecoderModel>> LoadModel(const ModelFiles& files,
                                                        const LoadOptions& options) {
  if (files.hf() != nullptr) return files.hf()->Load(options);
  return LoadModel(*files.gguf(), options);
}

absl::StatusOr<ModelInfo> ReadModelInfo(const ModelFiles& files) {
  if (files.hf() != nullptr) return files.hf()->Info();
  return ReadModelInfo(*files.gguf());
}

}  // namespace kvlab::model
