// HfModelDirectory: a Hugging Face model directory, opened: its config.json and its
// safetensors checkpoint (model.safetensors, or shards listed by
// model.safetensors.index.json), each file mapped once.
//
//   KVLAB_ASSIGN_OR_RETURN(auto dir, HfModelDirectory::Open("/models/Qwen2.5-0.5B"));
//   KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<DecoderModel> model, dir->Load({}));
//
// config.json names the architecture (a registered one, architecture.h), which runs the
// model with the same class as its GGUF conversion. Errors are one line naming the file
// and the field or tensor.
#ifndef KVLAB_EVAL_MODEL_HF_MODEL_DIRECTORY_H_
#define KVLAB_EVAL_MODEL_HF_MODEL_DIRECTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/model/architecture.h"
#include "eval/model/decoder_model.h"
#include "eval/model/hf_config.h"
#include "eval/safetensors/safetensors_checkpoint.h"

namespace kvlab::model {

class HfModelDirectory {
 public:
  // Reads `dir`/config.json (its architecture must be supported) and opens the
  // checkpoint beside it.
  static absl::StatusOr<std::unique_ptr<HfModelDirectory>> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const HfConfig& config() const { return config_; }
  // The registered name of its architecture.
  std::string architecture() const { return architecture_->Name(); }
  const safetensors::SafetensorsCheckpoint& checkpoint() const { return *checkpoint_; }
  // config.json and every checkpoint file, for fingerprints.
  std::vector<std::string> paths() const;

  // The model's description from config.json alone; its name is the directory's.
  absl::StatusOr<ModelInfo> Info() const;
  // The hyperparameters as its architecture reads them, named after the directory.
  absl::StatusOr<std::unique_ptr<ModelConfig>> ReadConfig() const;
  absl::StatusOr<std::unique_ptr<DecoderModel>> Load(const LoadOptions& options) const;

 private:
  HfModelDirectory(std::string dir, HfConfig config, std::unique_ptr<Architecture> architecture)
      : dir_(std::move(dir)), config_(std::move(config)), architecture_(std::move(architecture)) {}

  std::string dir_;
  HfConfig config_;
  std::unique_ptr<Architecture> architecture_;
  std::unique_ptr<safetensors::SafetensorsCheckpoint> checkpoint_;
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_HF_MODEL_DIRECTORY_H_
