#include "eval/model/gguf_to_hf.h"

#include <ATen/ATen.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/gguf/gguf_file.h"
#include "eval/gguf/gguf_tensor.h"
#include "eval/model/architecture.h"
#include "eval/model/hf_weight_source.h"
#include "eval/safetensors/safetensors_writer.h"

namespace kvlab::model {
namespace {

absl::Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrFormat("%s: cannot write", path));
  return absl::OkStatus();
}

// tokenizer.json and tokenizer_config.json for a GGUF byte-level BPE vocabulary
// ("gpt2"), with the pre-tokenizer llama.cpp names "smollm" (digits split one by one,
// then GPT-2's byte-level regex) or GPT-2's alone. Other vocabularies are skipped.
absl::Status WriteTokenizer(const gguf::GgufFile& file, const std::string& dir) {
  const absl::StatusOr<std::string> model = file.GetString("tokenizer.ggml.model");
  if (!model.ok() || *model != "gpt2") {
    absl::FPrintF(stderr, "gguf_to_hf: no tokenizer.json written (tokenizer.ggml.model is not "
                          "'gpt2')\n");
    return absl::OkStatus();
  }
  KVLAB_ASSIGN_OR_RETURN(const std::vector<std::string> tokens,
                         file.GetStringArray("tokenizer.ggml.tokens"));
  KVLAB_ASSIGN_OR_RETURN(const std::vector<std::string> merges,
                         file.GetStringArray("tokenizer.ggml.merges"));
  std::vector<int64_t> types(tokens.size(), 1);
  if (file.FindMetadata("tokenizer.ggml.token_type") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(types, file.GetIntArray("tokenizer.ggml.token_type"));
  }
  nlohmann::json vocab = nlohmann::json::object(), added = nlohmann::json::array();
  for (size_t i = 0; i < tokens.size(); ++i) {
    vocab[tokens[i]] = i;
    if (i < types.size() && types[i] == 3) {
      added.push_back({{"id", i}, {"content", tokens[i]}, {"special", true},
                       {"normalized", false}, {"lstrip", false}, {"rstrip", false},
                       {"single_word", false}});
    }
  }
  // Every field the tokenizers library requires of a ByteLevel step, so the file
  // loads there as well as here.
  const nlohmann::json byte_level = {{"type", "ByteLevel"},
                                     {"add_prefix_space", false},
                                     {"trim_offsets", false},
                                     {"use_regex", true}};
  const absl::StatusOr<std::string> pre = file.GetString("tokenizer.ggml.pre");
  nlohmann::json pre_tokenizer = byte_level;
  if (pre.ok() && *pre == "smollm") {
    pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers",
                      {{{"type", "Digits"}, {"individual_digits", true}}, byte_level}}};
  } else if (pre.ok() && *pre != "gpt2" && *pre != "default") {
    absl::FPrintF(stderr, "gguf_to_hf: no tokenizer.json written (pre-tokenizer '%s')\n", *pre);
    return absl::OkStatus();
  }
  const nlohmann::json json = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
                               {"pre_tokenizer", pre_tokenizer},
                               {"post_processor", byte_level},
                               {"decoder", byte_level},
                               {"added_tokens", added}};
  KVLAB_RETURN_IF_ERROR(WriteText(dir + "/tokenizer.json", json.dump()));
  nlohmann::json config = {{"add_bos_token", false}};
  if (file.FindMetadata("tokenizer.ggml.add_bos_token") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(const bool add_bos, file.GetBool("tokenizer.ggml.add_bos_token"));
    config["add_bos_token"] = add_bos;
  }
  if (file.FindMetadata("tokenizer.ggml.bos_token_id") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(const int64_t bos, file.GetInt("tokenizer.ggml.bos_token_id"));
    if (bos >= 0 && bos < static_cast<int64_t>(tokens.size())) config["bos_token"] = tokens[bos];
  }
  if (const absl::StatusOr<std::string> chat = file.GetString("tokenizer.chat_template");
      chat.ok()) {
    config["chat_template"] = *chat;
  }
  return WriteText(dir + "/tokenizer_config.json", config.dump(2));
}

}  // namespace

absl::Status ConvertGgufToHf(const std::string& gguf_path, const std::string& dir,
                             int64_t shard_bytes) {
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(gguf_path));
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<Architecture> architecture,
                         GgufArchitecture(*file));
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<ModelConfig> model, architecture->FromGguf(*file));
  const HfTensorLayout layout = model->HfLayout();
  KVLAB_ASSIGN_OR_RETURN(const nlohmann::json config, model->HfConfigJson(gguf_path));
  ::mkdir(dir.c_str(), 0755);
  KVLAB_RETURN_IF_ERROR(WriteText(dir + "/config.json", config.dump(2)));
  KVLAB_RETURN_IF_ERROR(WriteTokenizer(*file, dir));

  // Tensors in file order, into shards of at most --shard_bytes.
  std::vector<safetensors::SafetensorsWriter> shards(1);
  std::vector<std::vector<std::string>> shard_names(1);
  int64_t shard_size = 0;
  for (const gguf::TensorInfo& info : file->tensors()) {
    const std::string hf = layout.hf_name(info.name);
    if (hf.empty()) {
      absl::FPrintF(stderr, "gguf_to_hf: skipping '%s' (no transformers counterpart)\n", info.name);
      continue;
    }
    KVLAB_ASSIGN_OR_RETURN(at::Tensor t, gguf::LoadTensor(*file, info, at::kFloat));
    t = model->ToHf(info.name, std::move(t)).contiguous();
    const int64_t bytes = t.numel() * 4;
    if (shard_size > 0 && shard_size + bytes > shard_bytes) {
      shards.emplace_back();
      shard_names.emplace_back();
      shard_size = 0;
    }
    shards.back().AddTensor(hf, "F32", t.sizes().vec(),
                            std::string(static_cast<const char*>(t.data_ptr()), bytes));
    shard_names.back().push_back(hf);
    shard_size += bytes;
  }
  if (shards.size() == 1) return shards[0].WriteFile(dir + "/model.safetensors");
  nlohmann::json index = {{"metadata", nlohmann::json::object()},
                          {"weight_map", nlohmann::json::object()}};
  for (size_t s = 0; s < shards.size(); ++s) {
    const std::string name =
        absl::StrFormat("model-%05d-of-%05d.safetensors", s + 1, shards.size());
    KVLAB_RETURN_IF_ERROR(shards[s].WriteFile(dir + "/" + name));
    for (const std::string& tensor : shard_names[s]) index["weight_map"][tensor] = name;
  }
  return WriteText(dir + "/model.safetensors.index.json", index.dump(2));
}

}  // namespace kvlab::model

