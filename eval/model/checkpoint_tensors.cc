#include "eval/model/checkpoint_tensors.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/model/gemma3_config.h"
#include "eval/model/hf_tensor_layout.h"
#include "eval/model/llama_config.h"

namespace kvlab::model {

namespace {

// The tensors the architecture reads, in GGUF's names (see the header).
std::set<std::string> TensorsRead(const std::string& architecture, int num_layers, bool qkv_bias,
                                  bool rope_freqs) {
  std::set<std::string> names = {"token_embd.weight", "output_norm.weight", "output.weight"};
  if (rope_freqs) names.insert("rope_freqs.weight");
  std::vector<std::string> per_layer = {"attn_norm", "attn_q",   "attn_k", "attn_v",  "attn_output",
                                        "ffn_norm",  "ffn_gate", "ffn_up", "ffn_down"};
  if (architecture == "gemma3") {
    for (const char* norm :
         {"attn_q_norm", "attn_k_norm", "post_attention_norm", "post_ffw_norm"}) {
      per_layer.push_back(norm);
    }
  }
  for (int i = 0; i < num_layers; ++i) {
    for (const std::string& tensor : per_layer) {
      names.insert(absl::StrCat("blk.", i, ".", tensor, ".weight"));
    }
    if (qkv_bias) {
      for (const char* bias : {"attn_q", "attn_k", "attn_v"}) {
        names.insert(absl::StrCat("blk.", i, ".", bias, ".bias"));
      }
    }
  }
  return names;
}

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
    const bool qkv_bias =
        arch == "qwen2" || (arch == "llama" && file->FindTensor("blk.0.attn_q.bias").ok());
    const std::set<std::string> read =
        TensorsRead(arch, num_layers, qkv_bias, /*rope_freqs=*/arch == "llama");
    for (const gguf::TensorInfo& tensor : file->tensors()) {
      if (read.count(tensor.name) > 0) continue;
      return Unread(file->path(), tensor.name, LayerOf(tensor.name, "blk."), num_layers,
                    absl::StrCat(arch, ".block_count"), arch);
    }
    return absl::OkStatus();
  }
  const HfModelDirectory& hf = *files.hf();
  HfTensorLayout layout;
  bool tied = false;
  if (arch == "gemma3") {
    KVLAB_ASSIGN_OR_RETURN(const Gemma3Config c, Gemma3Config::FromHf(hf.config()));
    layout = Gemma3HfLayout(c);
    tied = c.tied_embeddings;
  } else {
    KVLAB_ASSIGN_OR_RETURN(const LlamaConfig c, LlamaConfig::FromHf(hf.config()));
    layout = LlamaHfLayout(c);
    tied = c.tied_embeddings;
  }
  std::set<std::string> read;
  for (const std::string& name :
       TensorsRead(arch, num_layers, /*qkv_bias=*/arch == "qwen2", /*rope_freqs=*/false)) {
    read.insert(layout.hf_name(name));
  }
  for (const safetensors::SafetensorsCheckpoint::Located& t : hf.checkpoint().AllTensors()) {
    const std::string& name = t.tensor->name;
    if (read.count(name) > 0 || IgnoredHfTensor(name, tied)) continue;
    return Unread(t.file->path(), name, LayerOf(name, "model.layers."), num_layers,
                  hf.config().path() + "'s num_hidden_layers", arch);
  }
  return absl::OkStatus();
}

}  // namespace kvlab::model
