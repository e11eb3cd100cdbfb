#include "eval/model/load_model.h"

#include <sys/stat.h>

#include "base/status_macros.h"
#include "eval/model/architecture.h"
#include "eval/model/gguf_weight_source.h"

namespace kvlab::model {

absl::StatusOr<std::unique_ptr<DecoderModel>> LoadModel(const gguf::GgufFile& file,
                                                        const LoadOptions& options) {
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<Architecture> architecture,
                         GgufArchitecture(file));
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<ModelConfig> config, architecture->FromGguf(file));
  return config->Build(GgufWeightSource(file), options);
}

absl::StatusOr<ModelInfo> ReadModelInfo(const gguf::GgufFile& file) {
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<Architecture> architecture,
                         GgufArchitecture(file));
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<ModelConfig> config, architecture->FromGguf(file));
  return config->Info();
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
