#include "eval/model/hf_model_directory.h"

#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "eval/model/hf_weight_source.h"

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
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<Architecture> architecture, HfArchitecture(config));
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

absl::StatusOr<std::unique_ptr<ModelConfig>> HfModelDirectory::ReadConfig() const {
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<ModelConfig> config, architecture_->FromHf(config_));
  config->set_name(DirectoryName(dir_));
  return config;
}

absl::StatusOr<ModelInfo> HfModelDirectory::Info() const {
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<ModelConfig> config, ReadConfig());
  return config->Info();
}

absl::StatusOr<std::unique_ptr<DecoderModel>> HfModelDirectory::Load(
    const LoadOptions& options) const {
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<ModelConfig> config, ReadConfig());
  const HfWeightSource source(*checkpoint_, config->HfLayout(), dir_);
  return config->Build(source, options);
}

}  // namespace kvlab::model
