#include "eval/model/gguf_keys.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace kvlab::model {

absl::Status ReadOptionalInt(const gguf::GgufFile& file, const std::string& key,
                             int64_t& value) {
  if (file.FindMetadata(key) == nullptr) return absl::OkStatus();
  KVLAB_ASSIGN_OR_RETURN(value, file.GetInt(key));
  return absl::OkStatus();
}

absl::Status ReadOptionalDouble(const gguf::GgufFile& file, const std::string& key,
                                double& value) {
  if (file.FindMetadata(key) == nullptr) return absl::OkStatus();
  KVLAB_ASSIGN_OR_RETURN(value, file.GetDouble(key));
  return absl::OkStatus();
}

absl::Status ReadOptionalString(const gguf::GgufFile& file, const std::string& key,
                                std::string& value) {
  if (file.FindMetadata(key) == nullptr) return absl::OkStatus();
  KVLAB_ASSIGN_OR_RETURN(value, file.GetString(key));
  return absl::OkStatus();
}

absl::StatusOr<DecoderSizes> ReadDecoderSizes(const gguf::GgufFile& file,
                                              absl::string_view architecture) {
  const std::string prefix = absl::StrCat(architecture, ".");
  DecoderSizes s;
  KVLAB_ASSIGN_OR_RETURN(s.layers, file.GetInt(prefix + "block_count"));
  KVLAB_ASSIGN_OR_RETURN(s.hidden, file.GetInt(prefix + "embedding_length"));
  KVLAB_ASSIGN_OR_RETURN(s.ffn, file.GetInt(prefix + "feed_forward_length"));
  KVLAB_ASSIGN_OR_RETURN(s.q_heads, file.GetInt(prefix + "attention.head_count"));
  s.kv_heads = s.q_heads;
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, prefix + "attention.head_count_kv", s.kv_heads));
  return s;
}

absl::StatusOr<Embedding> ReadEmbedding(const gguf::GgufFile& file, int64_t hidden) {
  KVLAB_ASSIGN_OR_RETURN(const gguf::TensorInfo* embedding, file.FindTensor("token_embd.weight"));
  if (embedding->dims.size() != 2 || embedding->dims[0] != hidden) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: token_embd.weight must be [vocab, %d]", file.path(), hidden));
  }
  Embedding e;
  e.vocab = embedding->dims[1];
  e.tied = !file.FindTensor("output.weight").ok();
  return e;
}

}  // namespace kvlab::model
