// LlamaConfig: the hyperparameters of a Llama-family model, read from GGUF metadata or
// a Hugging Face config.json.
//
// Two architectures share it: "llama" and "qwen2" (Llama with biases on the query, key
// and value projections, rotating pairs (x[i], x[i + d/2]) where Llama rotates
// (x[2i], x[2i+1]); llama.cpp's converter permutes Llama's query and key rows so that
// its GGUF files rotate interleaved pairs, and the Hugging Face loader permutes them
// the same way, so a Llama model rotates interleaved pairs whichever file it came from).
#ifndef KVLAB_EVAL_MODEL_LLAMA_CONFIG_H_
#define KVLAB_EVAL_MODEL_LLAMA_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/base_kv_cache.h"
#include "core/rope_scaling.h"
#include "core/rotary_embedding.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/decoder_weights.h"
#include "eval/model/hf_config.h"

namespace kvlab::model {

struct LlamaConfig {
  std::string architecture = "llama";  // general.architecture: "llama" or "qwen2"
  std::string name;       // general.name, for reports.
  int num_layers = 0;     // llama.block_count
  int64_t hidden = 0;     // llama.embedding_length
  int64_t ffn = 0;        // llama.feed_forward_length
  int64_t q_heads = 0;    // llama.attention.head_count
  int64_t kv_heads = 0;   // llama.attention.head_count_kv (default: q_heads)
  int64_t head_dim = 0;   // llama.attention.key_length (default: hidden / q_heads)
  int64_t vocab = 0;      // rows of token_embd.weight
  int64_t rope_dim = 0;   // llama.rope.dimension_count (default: head_dim)
  double rope_base = 10000.0;  // llama.rope.freq_base
  // From GGUF: llama.rope.scaling.type and .factor (linear), and rope_freqs.weight (per-pair
  // divisors, how llama.cpp's converter writes Llama 3's scaling); from config.json:
  // rope_scaling or rope_parameters.
  RopeScaling rope_scaling;
  double rms_eps = 1e-5;       // llama.attention.layer_norm_rms_epsilon
  int64_t context_length = 0;  // llama.context_length (0 if absent)
  bool tied_embeddings = false;  // true when the file has no output.weight
  // Which dims RoPE pairs: interleaved for llama, halves (NEOX) for qwen2.
  RopeStyle rope_style = RopeStyle::kInterleaved;
  bool qkv_bias = false;  // Biases on the Q, K and V projections (qwen2).

  // Reads and validates the configuration; errors name the file and the key.
  static absl::StatusOr<LlamaConfig> FromGguf(const gguf::GgufFile& file);
  // From config.json (model_type "llama" or "qwen2"); fields absent from it take
  // transformers' defaults, except the sizes, which are required. Errors name the file
  // and the field; features kvlab does not run (rope scaling, attention or MLP biases
  // on Llama, Qwen2's sliding window) are Unimplemented.
  static absl::StatusOr<LlamaConfig> FromHf(const HfConfig& config);

  AttentionShape attention_shape() const {
    return AttentionShape{num_layers, q_heads, kv_heads, head_dim};
  }
  // The tensors the model holds (decoder_weights.h).
  DecoderWeightsLayout weights_layout() const {
    return {{num_layers, hidden, ffn, q_heads, kv_heads, head_dim, vocab},
            tied_embeddings,
            qkv_bias};
  }
  // Bytes per token of a dense cache whose elements take `element_bytes`.
  int64_t DenseCacheBytesPerToken(int64_t element_bytes) const {
    return 2 * num_layers * kv_heads * head_dim * element_bytes;
  }
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_LLAMA_CONFIG_H_
