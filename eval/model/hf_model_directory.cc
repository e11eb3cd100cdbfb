#include "eval/model/hf_model_directory.h"

#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "eval/model/gemma3_config.h"
#include "eval/model/gemma3_model.h"
#include "eval/model/hf_tensor_layout.h"
#include "eval/model/hf_weight_source.h"
#include "eval/model/llama_config.h"
#include "eval/model/llama_model.h"

namespace kvlab::model {

namespace {

// The directory's own name ("SmolLM2-135M" for "/models/SmolLM2-135M/"), for reports.
std::string DirectoryName(absl::string_view dir) {
  while (dir.size() > 1 && absl::ConsumeSuffix(&dir, "/")) {
  }
  const size_t slash = dir.rfind('/');
  return std::string(slash == absl::string_view::npos ? dir : dir.substr(slash + 1));
}

}  // namespace

absl::StatusOr<std::unique_ptr<HfModelDirectory>> HfModelDirectory::Open(const std::string& dir) {
  KVLAB_ASSIGN_OR_RETURN(HfConfig config, HfConfig::Read(dir + "/config.json"));
  KVLAB_ASSIGN_OR_RETURN(std::string architecture, config.Architecture());
  std::unique_ptr<HfModelDirectory> opened(
      new HfModelDirectory(dir, std::move(config), std::move(architecture)));
  KVLAB_ASSIGN_OR_RETURN(opened->checkpoint_,
                         safetensors::SafetensorsCheckpoint::OpenDirectory(dir));
  return opened;
}

std::vector<std::string> HfModelDirectory::paths() const {
  std::vector<std::string> paths = {config_.path()};
  for (const std::string& path : checkpoint_->paths()) paths.push_back(path);
  return paths;
}

absl::StatusOr<ModelInfo> HfModelDirectory::Info() const {
  if (architecture_ == "gemma3") {
    KVLAB_ASSIGN_OR_RETURN(const Gemma3Config c, Gemma3Config::FromHf(config_));
    return ModelInfo{architecture_, DirectoryName(dir_), c.attention_shape(), c.vocab,
                     c.context_length};
  }
  KVLAB_ASSIGN_OR_RETURN(const LlamaConfig c, LlamaConfig::FromHf(config_));
  return ModelInfo{architecture_, DirectoryName(dir_), c.attention_shape(), c.vocab,
                   c.context_length};
}

absl::StatusOr<std::unique_ptr<DecoderModel>> HfModelDirectory::Load(
    const LoadOptions& options) const {
  if (architecture_ == "gemma3") {
    KVLAB_ASSIGN_OR_RETURN(Gemma3Config config, Gemma3Config::FromHf(config_));
    config.name = DirectoryName(dir_);
    const HfWeightSource source(*checkpoint_, Gemma3HfLayout(config), dir_);
    KVLAB_ASSIGN_OR_RETURN(auto model, Gemma3Model::Load(config, source, options));
    return std::unique_ptr<DecoderModel>(std::move(model));
  }
  KVLAB_ASSIGN_OR_RETURN(LlamaConfig config, LlamaConfig::FromHf(config_));
  config.name = DirectoryName(dir_);
  const HfWeightSource source(*checkpoint_, LlamaHfLayout(config), dir_);
  KVLAB_ASSIGN_OR_RETURN(auto model, LlamaModel::Load(config, source, options));
  return std::unique_ptr<DecoderModel>(std::move(model));
}

}  // namespace kvlab::model
