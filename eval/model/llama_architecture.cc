// The Llama family as registered architectures: "llama" (LlamaForCausalLM) and
// "qwen2" (Qwen2ForCausalLM, Llama with biases on Q, K and V, rotating halves), both run
// by LlamaModel (llama_model.h) from a LlamaConfig (llama_config.h).
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "base/status_macros.h"
#include "eval/model/architecture.h"
#include "eval/model/decoder_weights.h"
#include "eval/model/hf_config_fields.h"
#include "eval/model/hf_tensor_layout.h"
#include "eval/model/llama_config.h"
#include "eval/model/llama_model.h"

namespace kvlab::model {
namespace {

class LlamaModelConfig : public ModelConfig {
 public:
  explicit LlamaModelConfig(LlamaConfig config) : c_(std::move(config)) {}

  ModelInfo Info() const override {
    return {c_.architecture, c_.name, c_.attention_shape(), c_.vocab, c_.context_length};
  }
  void set_name(std::string name) override { c_.name = std::move(name); }

  absl::StatusOr<std::unique_ptr<DecoderModel>> Build(const WeightSource& weights,
                                                      const LoadOptions& options) const override {
    KVLAB_ASSIGN_OR_RETURN(auto model, LlamaModel::Load(c_, weights, options));
    return std::unique_ptr<DecoderModel>(std::move(model));
  }

  std::set<std::string> TensorNames() const override {
    std::set<std::string> names = DecoderTensorNames(c_.weights_layout());
    // As llama.cpp: only llama's graph divides its frequencies by rope_freqs.weight.
    if (c_.architecture == "llama") names.insert("rope_freqs.weight");
    return names;
  }
  bool tied_embeddings() const override { return c_.tied_embeddings; }

  HfTensorLayout HfLayout() const override { return LlamaHfLayout(c_); }

  absl::StatusOr<nlohmann::json> HfConfigJson(const std::string& gguf_path) const override {
    nlohmann::json json = CommonHfConfigFields(c_);
    json.update({{"architectures", {HfClass()}},
                 {"model_type", c_.architecture},
                 {"hidden_act", "silu"}});
    KVLAB_ASSIGN_OR_RETURN(json["rope_scaling"], HfRopeScalingJson(c_.rope_scaling, gguf_path));
    return json;
  }

  // Llama's Q and K rows back in rotate-half order (the inverse of the loader's
  // permutation, hf_tensor_layout.h).
  at::Tensor ToHf(const std::string& tensor, at::Tensor t) const override {
    if (c_.rope_style != RopeStyle::kInterleaved) return t;
    if (absl::StrContains(tensor, ".attn_q.")) return PermuteToHalfRope(t, c_.q_heads);
    if (absl::StrContains(tensor, ".attn_k.")) return PermuteToHalfRope(t, c_.kv_heads);
    return t;
  }

 private:
  std::string HfClass() const {
    return c_.architecture == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM";
  }

  LlamaConfig c_;
};

class LlamaArchitecture : public Architecture {
 public:
  LlamaArchitecture(std::string name, std::string hf_class)
      : name_(std::move(name)), hf_class_(std::move(hf_class)) {}

  std::string Name() const override { return name_; }
  std::string HfModelType() const override { return name_; }
  std::string HfClassName() const override { return hf_class_; }

  absl::StatusOr<std::unique_ptr<ModelConfig>> FromGguf(
      const gguf::GgufFile& file) const override {
    KVLAB_ASSIGN_OR_RETURN(LlamaConfig config, LlamaConfig::FromGguf(file));
    return std::unique_ptr<ModelConfig>(new LlamaModelConfig(std::move(config)));
  }
  absl::StatusOr<std::unique_ptr<ModelConfig>> FromHf(const HfConfig& config) const override {
    KVLAB_ASSIGN_OR_RETURN(LlamaConfig c, LlamaConfig::FromHf(config));
    return std::unique_ptr<ModelConfig>(new LlamaModelConfig(std::move(c)));
  }

 private:
  std::string name_;
  std::string hf_class_;
};

}  // namespace

KVLAB_REGISTER_ARCHITECTURE(llama, [] {
  return std::make_unique<LlamaArchitecture>("llama", "LlamaForCausalLM");
});
KVLAB_REGISTER_ARCHITECTURE(qwen2, [] {
  return std::make_unique<LlamaArchitecture>("qwen2", "Qwen2ForCausalLM");
});

}  // namespace kvlab::model
