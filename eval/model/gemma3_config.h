// Gemma3Config: the hyperparameters of a Gemma 3 model, read from GGUF metadata.
//
// Gemma 3 differs from Llama in ways the metadata partly states and partly leaves to
// convention; the conventions here are llama.cpp's, whose perplexity tool is the
// reference for this architecture:
//   - local (sliding-window) layers interleave with global ones: with
//     gemma3.attention.sliding_window_pattern = P (default 6), layer i is global when
//     i % P == P - 1; the key may also be one bool per layer (true: local);
//   - local layers rotate with gemma3.rope.freq_base_swa (default 10,000), global ones
//     with gemma3.rope.freq_base; rotation pairs (x[i], x[i + d/2]) (NEOX style);
//   - queries are scaled by 1/sqrt(head_dim), except for the 62-layer model (27B),
//     which scales by 1/sqrt(hidden / heads), as Google's reference configuration does.
#ifndef KVLAB_EVAL_MODEL_GEMMA3_CONFIG_H_
#define KVLAB_EVAL_MODEL_GEMMA3_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/base_kv_cache.h"
#include "core/rope_scaling.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/decoder_weights.h"
#include "eval/model/hf_config.h"

namespace kvlab::model {

struct Gemma3Config {
  std::string name;       // general.name, for reports.
  int num_layers = 0;     // gemma3.block_count
  int64_t hidden = 0;     // gemma3.embedding_length
  int64_t ffn = 0;        // gemma3.feed_forward_length
  int64_t q_heads = 0;    // gemma3.attention.head_count
  int64_t kv_heads = 0;   // gemma3.attention.head_count_kv (default: q_heads)
  int64_t head_dim = 0;   // gemma3.attention.key_length (default: hidden / q_heads)
  int64_t vocab = 0;      // rows of token_embd.weight
  int64_t rope_dim = 0;   // gemma3.rope.dimension_count (default: head_dim)
  double rope_base = 10000.0;        // gemma3.rope.freq_base (global layers)
  double local_rope_base = 10000.0;  // gemma3.rope.freq_base_swa (local layers)
  // Global layers' frequency scaling (gemma3.rope.scaling.type and .factor; config.json's
  // rope_scaling, or rope_parameters.full_attention), and the local layers' (none from
  // GGUF, as llama.cpp; rope_parameters.sliding_attention).
  RopeScaling rope_scaling;
  RopeScaling local_rope_scaling;
  double rms_eps = 1e-6;             // gemma3.attention.layer_norm_rms_epsilon
  int64_t context_length = 0;        // gemma3.context_length (0 if absent)
  // Tokens a local layer's query sees, itself included (gemma3.attention.sliding_window);
  // 0: every layer is global.
  int64_t sliding_window = 0;
  std::vector<bool> local_layers;  // One per layer: true for a sliding-window layer.
  double query_scale = 0.0;        // Multiplies q·k (see above).
  double final_logit_softcap = 0.0;  // gemma3.final_logit_softcapping; 0: none.
  bool tied_embeddings = false;      // true when the file has no output.weight

  // Reads and validates the configuration; errors name the file and the key.
  static absl::StatusOr<Gemma3Config> FromGguf(const gguf::GgufFile& file);
  // From config.json (model_type "gemma3_text", Gemma3ForCausalLM), as transformers'
  // Gemma3TextConfig reads it: local layers from layer_types ("sliding_attention") or
  // else sliding_window_pattern P (layer i local unless (i + 1) % P == 0), the query
  // scale query_pre_attn_scalar^-1/2, local layers rotating with
  // rope_local_base_freq; absent fields take its defaults except the sizes, which are
  // required. Errors name the file and the field.
  static absl::StatusOr<Gemma3Config> FromHf(const HfConfig& config);

  // The cache geometry, with each local layer's window.
  AttentionShape attention_shape() const;
  // The tensors the model holds (decoder_weights.h): per-head Q and K norms, and norms
  // after attention and after the MLP.
  DecoderWeightsLayout weights_layout() const {
    return {{num_layers, hidden, ffn, q_heads, kv_heads, head_dim, vocab},
            tied_embeddings,
            /*qkv_bias=*/false,
            /*qk_norm=*/true,
            /*post_norms=*/true};
  }
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_GEMMA3_CONFIG_H_
