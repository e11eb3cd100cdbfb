// LlamaConfig: the hyperparameters of a Llama-family model, read from GGUF metadata.
#ifndef KVLAB_EVAL_MODEL_LLAMA_CONFIG_H_
#define KVLAB_EVAL_MODEL_LLAMA_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/base_kv_cache.h"
#include "eval/gguf/gguf_file.h"

namespace kvlab::model {

struct LlamaConfig {
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
  double rms_eps = 1e-5;       // llama.attention.layer_norm_rms_epsilon
  int64_t context_length = 0;  // llama.context_length (0 if absent)
  bool tied_embeddings = false;  // true when the file has no output.weight

  // Reads and validates the configuration; errors name the file and the key.
  static absl::StatusOr<LlamaConfig> FromGguf(const gguf::GgufFile& file);

  AttentionShape attention_shape() const {
    return AttentionShape{num_layers, q_heads, kv_heads, head_dim};
  }
  // Bytes per token of a dense cache whose elements take `element_bytes`.
  int64_t DenseCacheBytesPerToken(int64_t element_bytes) const {
    return 2 * num_layers * kv_heads * head_dim * element_bytes;
  }
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_LLAMA_CONFIG_H_
