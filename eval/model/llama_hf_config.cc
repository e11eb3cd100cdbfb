// LlamaConfig::FromHf: config.json of a LlamaForCausalLM or Qwen2ForCausalLM, read as
// transformers' LlamaConfig and Qwen2Config read it (their defaults for absent fields).
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/model/llama_config.h"

namespace kvlab::model {

absl::StatusOr<LlamaConfig> LlamaConfig::FromHf(const HfConfig& config) {
  KVLAB_ASSIGN_OR_RETURN(const std::string architecture, config.Architecture());
  if (architecture != "llama" && architecture != "qwen2") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: describes a %s model, not llama or qwen2", config.path(), architecture));
  }
  const bool qwen2 = architecture == "qwen2";
  LlamaConfig c;
  c.architecture = architecture;
  KVLAB_ASSIGN_OR_RETURN(const int64_t layers, config.Int("num_hidden_layers"));
  KVLAB_ASSIGN_OR_RETURN(c.hidden, config.Int("hidden_size"));
  KVLAB_ASSIGN_OR_RETURN(c.ffn, config.Int("intermediate_size"));
  KVLAB_ASSIGN_OR_RETURN(c.q_heads, config.Int("num_attention_heads"));
  KVLAB_ASSIGN_OR_RETURN(c.kv_heads, config.Int("num_key_value_heads", c.q_heads));
  KVLAB_ASSIGN_OR_RETURN(c.vocab, config.Int("vocab_size"));
  if (layers <= 0 || layers > 4096 || c.hidden <= 0 || c.ffn <= 0 || c.q_heads <= 0 ||
      c.kv_heads <= 0 || c.q_heads % c.kv_heads != 0 || c.vocab <= 0 ||
      // Far above any published model, and low enough that no product of sizes overflows.
      c.hidden > (1 << 20) || c.ffn > (1 << 22) || c.q_heads > (1 << 14) ||
      c.vocab > (1 << 24)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: inconsistent sizes: num_hidden_layers=%d hidden_size=%d intermediate_size=%d "
        "num_attention_heads=%d num_key_value_heads=%d vocab_size=%d (all > 0 and within "
        "bounds, the heads a multiple of the key-value heads)",
        config.path(), layers, c.hidden, c.ffn, c.q_heads, c.kv_heads, c.vocab));
  }
  c.num_layers = static_cast<int>(layers);
  KVLAB_ASSIGN_OR_RETURN(c.head_dim, config.Int("head_dim", c.hidden / c.q_heads));
  if (c.head_dim <= 0 || c.head_dim % 2 != 0 || c.head_dim > (1 << 16)) {
    return config.FieldError("head_dim", absl::StrFormat("must be even, > 0 and <= 65536, got %d (or "
                                                         "hidden_size / num_attention_heads)",
                                                         c.head_dim));
  }
  c.rope_dim = c.head_dim;
  KVLAB_ASSIGN_OR_RETURN(const HfRope rope, ReadHfRope(config, "rope_theta", 10000.0));
  c.rope_base = rope.base;
  c.rope_scaling = rope.scaling;
  if (!(c.rope_base > 1.0)) return config.FieldError("rope_theta", "must be > 1");
  KVLAB_ASSIGN_OR_RETURN(c.rms_eps, config.Double("rms_norm_eps", 1e-6));
  if (!(c.rms_eps > 0.0)) return config.FieldError("rms_norm_eps", "must be > 0");
  KVLAB_ASSIGN_OR_RETURN(c.context_length,
                         config.Int("max_position_embeddings", qwen2 ? 32768 : 2048));
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
