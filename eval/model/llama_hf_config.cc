// LlamaConfig::FromHf: config.json of a LlamaForCausalLM or Qwen2ForCausalLM, read as
// transformers' LlamaConfig and Qwen2Config read it (their defaults for absent fields).
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/model/architecture.h"
#include "eval/model/llama_config.h"

namespace kvlab::model {

absl::StatusOr<LlamaConfig> LlamaConfig::FromHf(const HfConfig& config) {
  KVLAB_ASSIGN_OR_RETURN(const std::string architecture, HfArchitectureName(config));
  if (architecture != "llama" && architecture != "qwen2") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: describes a %s model, not llama or qwen2", config.path(), architecture));
  }
  const bool qwen2 = architecture == "qwen2";
  LlamaConfig c;
  c.architecture = architecture;
  KVLAB_ASSIGN_OR_RETURN(const DecoderSizes sizes,
                         ReadHfSizes(config, /*default_kv_heads=*/std::nullopt,
                                     /*default_head_dim=*/std::nullopt));
  c.num_layers = sizes.num_layers;
  c.hidden = sizes.hidden;
  c.ffn = sizes.ffn;
  c.q_heads = sizes.q_heads;
  c.kv_heads = sizes.kv_heads;
  c.vocab = sizes.vocab;
  c.head_dim = sizes.head_dim;
  c.rope_dim = c.head_dim;
  KVLAB_ASSIGN_OR_RETURN(const HfRope rope, ReadHfRope(config, "rope_theta", 10000.0));
  c.rope_base = rope.base;
  c.rope_scaling = rope.scaling;
  if (!(c.rope_base > 1.0)) return config.FieldError("rope_theta", "must be > 1");
  KVLAB_ASSIGN_OR_RETURN(c.rms_eps, config.Double("rms_norm_eps", 1e-6));
  if (!(c.rms_eps > 0.0)) return config.FieldError("rms_norm_eps", "must be > 0");
  KVLAB_ASSIGN_OR_RETURN(c.context_length,
                         config.Int("max_position_embeddings", qwen2 ? 32768 : 2048));
  // 0 would turn off the check against the trained context.
  if (c.context_length <= 0) return config.FieldError("max_position_embeddings", "must be > 0");
  KVLAB_ASSIGN_OR_RETURN(c.tied_embeddings, config.Bool("tie_word_embeddings", false));
  KVLAB_ASSIGN_OR_RETURN(const std::string activation, config.String("hidden_act", "silu"));
  if (activation != "silu") {
    return config.Unsupported(
        "hidden_act", absl::StrFormat("'%s' is not supported (%s's MLP is SwiGLU: 'silu')",
                                      activation, architecture));
  }
  if (qwen2) {
    // Qwen2's Q, K and V projections always carry biases; it rotates NEOX pairs.
    c.qkv_bias = true;
    c.rope_style = RopeStyle::kHalf;
    KVLAB_ASSIGN_OR_RETURN(const bool sliding, config.Bool("use_sliding_window", false));
    if (sliding) {
      return config.Unsupported("use_sliding_window",
                                "true is not supported for qwen2 (its layers attend fully)");
    }
  } else {
    c.rope_style = RopeStyle::kInterleaved;  // After the loader's permutation of Q and K.
    for (const char* field : {"attention_bias", "mlp_bias"}) {
      KVLAB_ASSIGN_OR_RETURN(const bool bias, config.Bool(field, false));
      if (bias) return config.Unsupported(field, "true is not supported for llama");
    }
  }
  return c;
}

}  // namespace kvlab::model
