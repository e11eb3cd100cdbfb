#include "eval/model/llama_config.h"

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/model/gguf_keys.h"

namespace kvlab::model {

absl::StatusOr<LlamaConfig> LlamaConfig::FromGguf(const gguf::GgufFile& file) {
  KVLAB_ASSIGN_OR_RETURN(const std::string architecture, file.GetString("general.architecture"));
  if (architecture != "llama" && architecture != "qwen2") {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: general.architecture is '%s'; kvlab runs 'llama' and 'qwen2' models here",
        file.path(), architecture));
  }
  LlamaConfig c;
  c.architecture = architecture;
  // As llama.cpp: qwen2 rotates NEOX pairs and was converted without permuting Q and K.
  c.rope_style = architecture == "qwen2" ? RopeStyle::kHalf : RopeStyle::kInterleaved;
  c.qkv_bias = file.FindTensor("blk.0.attn_q.bias").ok();
  const std::string a = architecture;
  KVLAB_RETURN_IF_ERROR(ReadOptionalString(file, "general.name", c.name));
  KVLAB_ASSIGN_OR_RETURN(const DecoderSizes sizes, ReadDecoderSizes(file, a));
  c.num_layers = sizes.num_layers;
  c.hidden = sizes.hidden;
  c.ffn = sizes.ffn;
  c.q_heads = sizes.q_heads;
  c.kv_heads = sizes.kv_heads;
  c.head_dim = sizes.head_dim;
  c.vocab = sizes.vocab;
  c.rope_dim = c.head_dim;
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, a + ".rope.dimension_count", c.rope_dim));
  KVLAB_RETURN_IF_ERROR(ReadOptionalDouble(file, a + ".rope.freq_base", c.rope_base));
  if (c.rope_dim <= 0 || c.rope_dim % 2 != 0 || c.rope_dim > c.head_dim) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %s.rope.dimension_count must be even and in (0, %d], got %d", file.path(), a,
        c.head_dim, c.rope_dim));
  }
  // As llama.cpp: only llama's graph divides its frequencies by rope_freqs.weight.
  KVLAB_ASSIGN_OR_RETURN(c.rope_scaling,
                         ReadRopeScaling(file, a, c.rope_dim, /*frequency_factors=*/a == "llama"));
  KVLAB_RETURN_IF_ERROR(
      ReadOptionalDouble(file, a + ".attention.layer_norm_rms_epsilon", c.rms_eps));
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, a + ".context_length", c.context_length));
  KVLAB_RETURN_IF_ERROR(CheckRopeBase(file, a + ".rope.freq_base", c.rope_base));
  KVLAB_RETURN_IF_ERROR(
      CheckRmsEpsilon(file, a + ".attention.layer_norm_rms_epsilon", c.rms_eps));
  KVLAB_RETURN_IF_ERROR(CheckContextLength(file, a + ".context_length", c.context_length));
  // llama.cpp ties the output projection to the embedding when the file has none.
  c.tied_embeddings = !file.FindTensor("output.weight").ok();
  return c;
}

}  // namespace kvlab::model
