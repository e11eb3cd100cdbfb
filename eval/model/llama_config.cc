#include "eval/model/llama_config.h"

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/model/gguf_keys.h"

namespace kvlab::model {

absl::StatusOr<LlamaConfig> LlamaConfig::FromGguf(const gguf::GgufFile& file) {
  KVLAB_ASSIGN_OR_RETURN(const std::string architecture, file.GetString("general.architecture"));
  if (architecture != "llama") {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: general.architecture is '%s'; kvlab runs 'llama' models", file.path(), architecture));
  }
  LlamaConfig c;
  KVLAB_RETURN_IF_ERROR(ReadOptionalString(file, "general.name", c.name));
  KVLAB_ASSIGN_OR_RETURN(const DecoderSizes sizes, ReadDecoderSizes(file, "llama"));
  const int64_t layers = sizes.layers;
  c.num_layers = static_cast<int>(layers);
  c.hidden = sizes.hidden;
  c.ffn = sizes.ffn;
  c.q_heads = sizes.q_heads;
  c.kv_heads = sizes.kv_heads;
  if (c.num_layers <= 0 || c.hidden <= 0 || c.ffn <= 0 || c.q_heads <= 0 || c.kv_heads <= 0 ||
      c.q_heads % c.kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: inconsistent llama hyperparameters: block_count=%d embedding_length=%d "
        "feed_forward_length=%d head_count=%d head_count_kv=%d",
        file.path(), c.num_layers, c.hidden, c.ffn, c.q_heads, c.kv_heads));
  }
  c.head_dim = c.hidden / c.q_heads;
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, "llama.attention.key_length", c.head_dim));
  c.rope_dim = c.head_dim;
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, "llama.rope.dimension_count", c.rope_dim));
  KVLAB_RETURN_IF_ERROR(ReadOptionalDouble(file, "llama.rope.freq_base", c.rope_base));
  KVLAB_RETURN_IF_ERROR(
      ReadOptionalDouble(file, "llama.attention.layer_norm_rms_epsilon", c.rms_eps));
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, "llama.context_length", c.context_length));
  KVLAB_ASSIGN_OR_RETURN(const Embedding embedding, ReadEmbedding(file, c.hidden));
  c.vocab = embedding.vocab;
  c.tied_embeddings = embedding.tied;
  return c;
}

}  // namespace kvlab::model
