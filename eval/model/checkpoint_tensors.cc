#include "eval/model/checkpoint_tensors.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/model/architecture.h"
#include "eval/model/hf_weight_source.h"

namespace kvlab::model {

namespace {

// The layer of "<prefix><i>.<rest>", or -1 for a name of another form.
int LayerOf(const std::string& name, absl::string_view prefix) {
  if (!absl::StartsWith(name, prefix)) return -1;
  const size_t dot = name.find('.', prefix.size());
  int layer = -1;
  if (dot == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(name).substr(prefix.size(), dot - prefix.size()),
                        &layer)) {
    return -1;
  }
  return layer;
}

absl::Status Unread(const std::string& file, const std::string& tensor, int layer, int num_layers,
                    const std::string& count_key, const std::string& architecture) {
  if (layer >= num_layers) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: tensor '%s' is for layer %d, but %s is %d (layers 0..%d): the checkpoint holds "
        "layers its metadata leaves out",
        file, tensor, layer, count_key, num_layers, num_layers - 1));
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: tensor '%s' is not one kvlab's %s reads; a checkpoint's every tensor must be read "
      "(docs/reliability.md)",
      file, tensor, architecture));
}

bool IgnoredHfTensor(const std::string& name, bool tied) {
  for (const char* tower : {"vision_tower.", "vision_model.", "multi_modal_projector."}) {
    if (absl::StartsWith(name, tower) || absl::StartsWith(name, absl::StrCat("model.", tower))) {
      return true;
    }
  }
  return absl::EndsWith(name, ".rotary_emb.inv_freq") || (tied && name == "lm_head.weight");
}

}  // namespace

absl::Status CheckEveryTensorIsRead(const ModelFiles& files, const ModelInfo& info) {
  const int num_layers = static_cast<int>(info.attention.num_layers);
  const std::string& arch = info.architecture;
  if (const gguf::GgufFile* file = files.gguf(); file != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<Architecture> architecture,
                           GgufArchitecture(*file));
    KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<ModelConfig> config,
                           architecture->FromGguf(*file));
    const std::set<std::string> read = config->TensorNames();
    for (const gguf::TensorInfo& tensor : file->tensors()) {
      if (read.count(tensor.name) > 0) continue;
      return Unread(file->path(), tensor.name, LayerOf(tensor.name, "blk."), num_layers,
                    absl::StrCat(arch, ".block_count"), arch);
    }
    return absl::OkStatus();
  }
  const HfModelDirectory& hf = *files.hf();
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<ModelConfig> config, hf.ReadConfig());
  const HfTensorLayout layout = config->HfLayout();
  const bool tied = config->tied_embeddings();
  std::set<std::string> read;
  for (const std::string& name : config->TensorNames()) read.insert(layout.hf_name(name));
  for (const safetensors::SafetensorsCheckpoint::Located& t : hf.checkpoint().AllTensors()) {
    const std::string& name = t.tensor->name;
    if (read.count(name) > 0 || IgnoredHfTensor(name, tied)) continue;
    return Unread(t.file->path(), name, LayerOf(name, "model.layers."), num_layers,
                  hf.config().path() + "'s num_hidden_layers", arch);
  }
  return absl::OkStatus();
}

}  // namespace kvlab::model
