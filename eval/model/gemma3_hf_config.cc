// Gemma3Config::FromHf: config.json of a Gemma3ForCausalLM, read as transformers'
// Gemma3TextConfig reads it (its defaults for absent fields).
#include <cmath>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/model/architecture.h"
#include "eval/model/gemma3_config.h"

namespace kvlab::model {

namespace {

// One bool per layer, true for a sliding-window layer.
absl::StatusOr<std::vector<bool>> ReadLayerTypes(const HfConfig& config, int num_layers) {
  if (const nlohmann::json* types = config.Find("layer_types"); types != nullptr) {
    if (!types->is_array() || static_cast<int64_t>(types->size()) != num_layers) {
      return config.FieldError(
          "layer_types", absl::StrFormat("must be a list of %d entries (num_hidden_layers)",
                                         num_layers));
    }
    std::vector<bool> local;
    for (const nlohmann::json& type : *types) {
      if (type == "sliding_attention") {
        local.push_back(true);
      } else if (type == "full_attention") {
        local.push_back(false);
      } else {
        return config.FieldError("layer_types", absl::StrFormat(
            "entries must be \"sliding_attention\" or \"full_attention\", got %s", type.dump()));
      }
    }
    return local;
  }
  // Older configs: a period (transformers also saves it as _sliding_window_pattern).
  std::string field = "sliding_window_pattern";
  if (config.Find(field) == nullptr && config.Find("_" + field) != nullptr) field = "_" + field;
  KVLAB_ASSIGN_OR_RETURN(const int64_t period, config.Int(field, 6));
  if (period <= 0) return config.FieldError(field, absl::StrFormat("must be > 0, got %d", period));
  std::vector<bool> local(num_layers);
  for (int i = 0; i < num_layers; ++i) local[i] = (i + 1) % period != 0;
  return local;
}

}  // namespace

absl::StatusOr<Gemma3Config> Gemma3Config::FromHf(const HfConfig& config) {
  KVLAB_ASSIGN_OR_RETURN(const std::string architecture, HfArchitectureName(config));
  if (architecture != "gemma3") {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: describes a %s model, not gemma3", config.path(), architecture));
  }
  Gemma3Config c;
  // Gemma3TextConfig's defaults: 4 key-value heads of 256 dimensions.
  KVLAB_ASSIGN_OR_RETURN(const DecoderSizes sizes,
                         ReadHfSizes(config, /*default_kv_heads=*/4, /*default_head_dim=*/256));
  c.num_layers = sizes.num_layers;
  c.hidden = sizes.hidden;
  c.ffn = sizes.ffn;
  c.q_heads = sizes.q_heads;
  c.kv_heads = sizes.kv_heads;
  c.vocab = sizes.vocab;
  c.head_dim = sizes.head_dim;
  c.rope_dim = c.head_dim;
  // As transformers' Gemma3TextConfig: rope_scaling scales the global layers only.
  KVLAB_ASSIGN_OR_RETURN(const HfRope global,
                         ReadHfRope(config, "rope_theta", 1e6, "full_attention"));
  KVLAB_ASSIGN_OR_RETURN(const HfRope local,
                         ReadHfRope(config, "rope_local_base_freq", 1e4, "sliding_attention",
                                    /*legacy_scaling_applies=*/false));
  c.rope_base = global.base;
  c.rope_scaling = global.scaling;
  c.local_rope_base = local.base;
  c.local_rope_scaling = local.scaling;
  if (!(c.rope_base > 1.0) || !(c.local_rope_base > 1.0)) {
    return config.FieldError("rope_theta", "and rope_local_base_freq must be > 1");
  }
  KVLAB_ASSIGN_OR_RETURN(c.rms_eps, config.Double("rms_norm_eps", 1e-6));
  if (!(c.rms_eps > 0.0)) return config.FieldError("rms_norm_eps", "must be > 0");
  KVLAB_ASSIGN_OR_RETURN(c.context_length, config.Int("max_position_embeddings", 131072));
  // 0 would turn off the check against the trained context.
  if (c.context_length <= 0) return config.FieldError("max_position_embeddings", "must be > 0");
  KVLAB_ASSIGN_OR_RETURN(c.final_logit_softcap, config.Double("final_logit_softcapping", 0.0));
  if (c.final_logit_softcap < 0.0) {
    return config.FieldError("final_logit_softcapping", "must be > 0 or null");
  }
  if (config.Find("attn_logit_softcapping") != nullptr) {
    return config.Unsupported("attn_logit_softcapping",
                              "is not supported (Gemma 3 has none; kvlab's caches do not cap "
                              "attention scores)");
  }
  KVLAB_ASSIGN_OR_RETURN(const std::string activation,
                         config.String("hidden_activation", "gelu_pytorch_tanh"));
  if (activation != "gelu_pytorch_tanh") {
    return config.Unsupported("hidden_activation",
                              absl::StrFormat("'%s' is not supported (Gemma 3's MLP is "
                                              "GELU(tanh)-gated: 'gelu_pytorch_tanh')",
                                              activation));
  }
  KVLAB_ASSIGN_OR_RETURN(const bool bidirectional,
                         config.Bool("use_bidirectional_attention", false));
  if (bidirectional) {
    return config.Unsupported("use_bidirectional_attention",
                              "true is not supported (kvlab runs causal decoders)");
  }
  KVLAB_ASSIGN_OR_RETURN(const bool bias, config.Bool("attention_bias", false));
  if (bias) return config.Unsupported("attention_bias", "true is not supported for gemma3");
  KVLAB_ASSIGN_OR_RETURN(c.sliding_window, config.Int("sliding_window", 4096));
  if (c.sliding_window <= 0) {
    return config.FieldError("sliding_window", absl::StrFormat("must be > 0, got %d",
                                                               c.sliding_window));
  }
  KVLAB_ASSIGN_OR_RETURN(c.local_layers, ReadLayerTypes(config, c.num_layers));
  KVLAB_ASSIGN_OR_RETURN(const double scalar, config.Double("query_pre_attn_scalar", 256.0));
  if (!(scalar > 0.0)) return config.FieldError("query_pre_attn_scalar", "must be > 0");
  c.query_scale = 1.0 / std::sqrt(scalar);
  KVLAB_ASSIGN_OR_RETURN(c.tied_embeddings, config.Bool("tie_word_embeddings", true));
  return c;
}

}  // namespace kvlab::model
