// Gemma 3 as a registered architecture: "gemma3" (config.json's gemma3_text,
// Gemma3ForCausalLM), run by Gemma3Model (gemma3_model.h) from a Gemma3Config
// (gemma3_config.h).
#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "base/status_macros.h"
#include "eval/model/architecture.h"
#include "eval/model/decoder_weights.h"
#include "eval/model/gemma3_config.h"
#include "eval/model/gemma3_model.h"
#include "eval/model/hf_config_fields.h"
#include "eval/model/hf_tensor_layout.h"

namespace kvlab::model {
namespace {

class Gemma3ModelConfig : public ModelConfig {
 public:
  explicit Gemma3ModelConfig(Gemma3Config config) : c_(std::move(config)) {}

  ModelInfo Info() const override {
    return {"gemma3", c_.name, c_.attention_shape(), c_.vocab, c_.context_length};
  }
  void set_name(std::string name) override { c_.name = std::move(name); }

  absl::StatusOr<std::unique_ptr<DecoderModel>> Build(const WeightSource& weights,
                                                      const LoadOptions& options) const override {
    KVLAB_ASSIGN_OR_RETURN(auto model, Gemma3Model::Load(c_, weights, options));
    return std::unique_ptr<DecoderModel>(std::move(model));
  }

  std::set<std::string> TensorNames() const override {
    return DecoderTensorNames(c_.weights_layout());
  }
  bool tied_embeddings() const override { return c_.tied_embeddings; }

  HfTensorLayout HfLayout() const override { return Gemma3HfLayout(c_); }

  absl::StatusOr<nlohmann::json> HfConfigJson(const std::string& gguf_path) const override {
    std::vector<std::string> types;
    for (const bool local : c_.local_layers) {
      types.push_back(local ? "sliding_attention" : "full_attention");
    }
    nlohmann::json json = CommonHfConfigFields(c_);
    json.update({
        {"architectures", {"Gemma3ForCausalLM"}},
        {"model_type", "gemma3_text"},
        {"rope_local_base_freq", c_.local_rope_base},
        {"sliding_window", c_.sliding_window},
        {"layer_types", types},
        {"query_pre_attn_scalar", 1.0 / (c_.query_scale * c_.query_scale)},
        {"final_logit_softcapping",
         c_.final_logit_softcap > 0 ? nlohmann::json(c_.final_logit_softcap) : nlohmann::json()},
        {"hidden_activation", "gelu_pytorch_tanh"}});
    // Global layers only, as transformers reads Gemma 3's rope_scaling.
    KVLAB_ASSIGN_OR_RETURN(json["rope_scaling"], HfRopeScalingJson(c_.rope_scaling, gguf_path));
    return json;
  }

  // Norm weights as transformers stores them: w, where GGUF holds Gemma's 1 + w.
  at::Tensor ToHf(const std::string& tensor, at::Tensor t) const override {
    return absl::EndsWith(tensor, "norm.weight") ? t - 1.0 : t;
  }

 private:
  Gemma3Config c_;
};

class Gemma3Architecture : public Architecture {
 public:
  std::string Name() const override { return "gemma3"; }
  std::string HfModelType() const override { return "gemma3_text"; }
  std::string HfClassName() const override { return "Gemma3ForCausalLM"; }

  absl::StatusOr<std::unique_ptr<ModelConfig>> FromGguf(
      const gguf::GgufFile& file) const override {
    KVLAB_ASSIGN_OR_RETURN(Gemma3Config config, Gemma3Config::FromGguf(file));
    return std::unique_ptr<ModelConfig>(new Gemma3ModelConfig(std::move(config)));
  }
  absl::StatusOr<std::unique_ptr<ModelConfig>> FromHf(const HfConfig& config) const override {
    KVLAB_ASSIGN_OR_RETURN(Gemma3Config c, Gemma3Config::FromHf(config));
    return std::unique_ptr<ModelConfig>(new Gemma3ModelConfig(std::move(c)));
  }
};

}  // namespace

KVLAB_REGISTER_ARCHITECTURE(gemma3, [] { return std::make_unique<Gemma3Architecture>(); });

}  // namespace kvlab::model
