#include "eval/model/llama_config.h"

#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace kvlab::model {

namespace {

// Reads an optional integer key, leaving `value` unchanged when absent.
absl::Status ReadOptionalInt(const gguf::GgufFile& file, const char* key, int64_t& value) {
  if (file.FindMetadata(key) == nullptr) return absl::OkStatus();
  KVLAB_ASSIGN_OR_RETURN(value, file.GetInt(key));
  return absl::OkStatus();
}

absl::Status ReadOptionalDouble(const gguf::GgufFile& file, const char* key, double& value) {
  if (file.FindMetadata(key) == nullptr) return absl::OkStatus();
  KVLAB_ASSIGN_OR_RETURN(value, file.GetDouble(key));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LlamaConfig> LlamaConfig::FromGguf(const gguf::GgufFile& file) {
  KVLAB_ASSIGN_OR_RETURN(const std::string architecture, file.GetString("general.architecture"));
  if (architecture != "llama") {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: general.architecture is '%s'; kvlab runs 'llama' models", file.path(), architecture));
  }
  LlamaConfig c;
  if (file.FindMetadata("general.name") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(c.name, file.GetString("general.name"));
  }
  KVLAB_ASSIGN_OR_RETURN(const int64_t layers, file.GetInt("llama.block_count"));
  c.num_layers = static_cast<int>(layers);
  KVLAB_ASSIGN_OR_RETURN(c.hidden, file.GetInt("llama.embedding_length"));
  KVLAB_ASSIGN_OR_RETURN(c.ffn, file.GetInt("llama.feed_forward_length"));
  KVLAB_ASSIGN_OR_RETURN(c.q_heads, file.GetInt("llama.attention.head_count"));
  c.kv_heads = c.q_heads;
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, "llama.attention.head_count_kv", c.kv_heads));
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
  KVLAB_ASSIGN_OR_RETURN(const gguf::TensorInfo* embedding, file.FindTensor("token_embd.weight"));
  if (embedding->dims.size() != 2 || embedding->dims[0] != c.hidden) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: token_embd.weight must be [vocab, %d]", file.path(), c.hidden));
  }
  c.vocab = embedding->dims[1];
  c.tied_embeddings = !file.FindTensor("output.weight").ok();
  return c;
}

}  // namespace kvlab::model
