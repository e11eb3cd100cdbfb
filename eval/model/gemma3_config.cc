#include "eval/model/gemma3_config.h"

#include <cmath>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/model/gguf_keys.h"

namespace kvlab::model {

namespace {

// Which layers are local: gemma3.attention.sliding_window_pattern as a period P (every
// P-th layer global, the last of each period) or as one bool per layer.
absl::StatusOr<std::vector<bool>> ReadLocalLayers(const gguf::GgufFile& file, int num_layers) {
  constexpr char kKey[] = "gemma3.attention.sliding_window_pattern";
  int64_t period = 6;  // Gemma 3's five local layers per global one.
  if (const gguf::GgufValue* value = file.FindMetadata(kKey);
      value != nullptr && value->type() == gguf::ValueType::kArray) {
    KVLAB_ASSIGN_OR_RETURN(const gguf::GgufValue::Array* array, value->AsArray());
    if (static_cast<int>(array->size()) != num_layers) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: %s has %d entries for %d layers", file.path(), kKey, array->size(), num_layers));
    }
    std::vector<bool> local;
    for (const gguf::GgufValue& element : *array) {
      absl::StatusOr<bool> is_local = element.AsBool();
      if (!is_local.ok()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: %s must be an integer or an array of bools", file.path(), kKey));
      }
      local.push_back(*is_local);
    }
    return local;
  }
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, kKey, period));
  if (period < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s must be >= 0, got %d", file.path(), kKey, period));
  }
  std::vector<bool> local(num_layers);
  // As llama.cpp: a period of 0 makes every layer local.
  for (int i = 0; i < num_layers; ++i) local[i] = period == 0 || i % period < period - 1;
  return local;
}

}  // namespace

absl::StatusOr<Gemma3Config> Gemma3Config::FromGguf(const gguf::GgufFile& file) {
  KVLAB_ASSIGN_OR_RETURN(const std::string architecture, file.GetString("general.architecture"));
  if (architecture != "gemma3") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: general.architecture is '%s', not 'gemma3'", file.path(), architecture));
  }
  Gemma3Config c;
  KVLAB_RETURN_IF_ERROR(ReadOptionalString(file, "general.name", c.name));
  KVLAB_ASSIGN_OR_RETURN(const DecoderSizes sizes, ReadDecoderSizes(file, "gemma3"));
  c.num_layers = sizes.num_layers;
  c.hidden = sizes.hidden;
  c.ffn = sizes.ffn;
  c.q_heads = sizes.q_heads;
  c.kv_heads = sizes.kv_heads;
  c.head_dim = sizes.head_dim;
  c.vocab = sizes.vocab;
  int64_t value_dim = c.head_dim;
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, "gemma3.attention.value_length", value_dim));
  if (value_dim != c.head_dim) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: gemma3.attention.key_length (%d) and value_length (%d) must be equal",
        file.path(), c.head_dim, value_dim));
  }
  c.rope_dim = c.head_dim;
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, "gemma3.rope.dimension_count", c.rope_dim));
  KVLAB_RETURN_IF_ERROR(ReadOptionalDouble(file, "gemma3.rope.freq_base", c.rope_base));
  KVLAB_RETURN_IF_ERROR(ReadOptionalDouble(file, "gemma3.rope.freq_base_swa", c.local_rope_base));
  if (c.rope_dim <= 0 || c.rope_dim % 2 != 0 || c.rope_dim > c.head_dim) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: gemma3.rope.dimension_count must be even and in (0, %d], got %d", file.path(),
        c.head_dim, c.rope_dim));
  }
  // As llama.cpp: the scaling applies to the global layers; local layers stay unscaled.
  KVLAB_ASSIGN_OR_RETURN(c.rope_scaling, ReadRopeScaling(file, "gemma3", c.rope_dim,
                                                         /*frequency_factors=*/false));
  KVLAB_ASSIGN_OR_RETURN(c.rms_eps, file.GetDouble("gemma3.attention.layer_norm_rms_epsilon"));
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, "gemma3.context_length", c.context_length));
  KVLAB_RETURN_IF_ERROR(CheckRopeBase(file, "gemma3.rope.freq_base", c.rope_base));
  KVLAB_RETURN_IF_ERROR(CheckRopeBase(file, "gemma3.rope.freq_base_swa", c.local_rope_base));
  KVLAB_RETURN_IF_ERROR(
      CheckRmsEpsilon(file, "gemma3.attention.layer_norm_rms_epsilon", c.rms_eps));
  KVLAB_RETURN_IF_ERROR(CheckContextLength(file, "gemma3.context_length", c.context_length));
  KVLAB_RETURN_IF_ERROR(
      ReadOptionalDouble(file, "gemma3.final_logit_softcapping", c.final_logit_softcap));
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, "gemma3.attention.sliding_window", c.sliding_window));
  if (c.sliding_window < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: gemma3.attention.sliding_window must be >= 0, got %d", file.path(), c.sliding_window));
  }
  if (c.sliding_window > 0) {
    KVLAB_ASSIGN_OR_RETURN(c.local_layers, ReadLocalLayers(file, c.num_layers));
  } else {
    c.local_layers.assign(c.num_layers, false);
  }
  c.query_scale = 1.0 / std::sqrt(static_cast<double>(
                            c.num_layers == 62 ? c.hidden / c.q_heads : c.head_dim));

  // llama.cpp ties the output projection to the embedding when the file has none.
  c.tied_embeddings = !file.FindTensor("output.weight").ok();
  return c;
}

AttentionShape Gemma3Config::attention_shape() const {
  AttentionShape shape{num_layers, q_heads, kv_heads, head_dim};
  shape.sliding_window.resize(num_layers);
  for (int i = 0; i < num_layers; ++i) shape.sliding_window[i] = local_layers[i] ? sliding_window : 0;
  return shape;
}

}  // namespace kvlab::model
