#include "eval/model/gguf_keys.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/model/decoder_sizes.h"

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

absl::StatusOr<RopeScaling> ReadRopeScaling(const gguf::GgufFile& file,
                                            absl::string_view architecture, int64_t rope_dim,
                                            bool frequency_factors) {
  const std::string prefix = absl::StrCat(architecture, ".rope.");
  RopeScaling scaling;
  std::string type = "linear";
  KVLAB_RETURN_IF_ERROR(ReadOptionalString(file, prefix + "scaling.type", type));
  if (type != "none" && type != "linear") {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: %sscaling.type '%s' is not supported (kvlab runs 'none' and 'linear', and "
        "Llama 3's scaling as rope_freqs.weight)", file.path(), prefix, type));
  }
  double factor = 0.0;
  std::string factor_key = prefix + "scaling.factor";
  if (file.FindMetadata(factor_key) == nullptr) factor_key = prefix + "scale_linear";
  KVLAB_RETURN_IF_ERROR(ReadOptionalDouble(file, factor_key, factor));
  if (!std::isfinite(factor) || factor < 0.0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %s must be > 0 (or 0: none), got %g", file.path(), factor_key, factor));
  }
  // llama.cpp never scales when the type is "none", whatever the factor.
  if (type == "linear" && factor != 0.0 && factor != 1.0) {
    scaling.type = RopeScaling::Type::kLinear;
    scaling.factor = factor;
  }
  if (!frequency_factors) return scaling;
  absl::StatusOr<const gguf::TensorInfo*> tensor = file.FindTensor("rope_freqs.weight");
  if (!tensor.ok()) return scaling;
  const gguf::TensorInfo& info = **tensor;
  if (info.type != gguf::TensorType::kF32 || info.dims.size() != 1 ||
      info.dims[0] != rope_dim / 2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: rope_freqs.weight must be F32 of shape [%d] (one factor per rotated pair)",
        file.path(), rope_dim / 2));
  }
  const absl::Span<const uint8_t> bytes = file.TensorBytes(info);
  if (bytes.size() != static_cast<size_t>(rope_dim / 2) * sizeof(float)) {
    return absl::DataLossError(absl::StrFormat("%s: rope_freqs.weight holds %d bytes, not %d",
                                               file.path(), bytes.size(),
                                               rope_dim / 2 * sizeof(float)));
  }
  scaling.frequency_divisors.resize(rope_dim / 2);
  for (int64_t i = 0; i < rope_dim / 2; ++i) {
    float divisor;
    std::memcpy(&divisor, bytes.data() + i * sizeof(float), sizeof(float));
    if (!std::isfinite(divisor) || !(divisor > 0.0f)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: rope_freqs.weight[%d] must be finite and > 0, got %g", file.path(), i, divisor));
    }
    scaling.frequency_divisors[i] = divisor;
  }
  return scaling;
}

absl::StatusOr<DecoderSizes> ReadDecoderSizes(const gguf::GgufFile& file,
                                              absl::string_view architecture) {
  const std::string prefix = absl::StrCat(architecture, ".");
  DecoderSizes s;
  KVLAB_ASSIGN_OR_RETURN(const int64_t layers, file.GetInt(prefix + "block_count"));
  KVLAB_ASSIGN_OR_RETURN(s.hidden, file.GetInt(prefix + "embedding_length"));
  KVLAB_ASSIGN_OR_RETURN(s.ffn, file.GetInt(prefix + "feed_forward_length"));
  KVLAB_ASSIGN_OR_RETURN(s.q_heads, file.GetInt(prefix + "attention.head_count"));
  s.kv_heads = s.q_heads;
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, prefix + "attention.head_count_kv", s.kv_heads));
  if (!DecoderSizesWithinLimits(layers, s.hidden, s.ffn, s.q_heads, s.kv_heads)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: inconsistent %s hyperparameters: block_count=%d embedding_length=%d "
        "feed_forward_length=%d head_count=%d head_count_kv=%d (all > 0 and within bounds, "
        "head_count a multiple of head_count_kv)",
        file.path(), architecture, layers, s.hidden, s.ffn, s.q_heads, s.kv_heads));
  }
  s.num_layers = static_cast<int>(layers);
  s.head_dim = s.hidden / s.q_heads;
  KVLAB_RETURN_IF_ERROR(ReadOptionalInt(file, prefix + "attention.key_length", s.head_dim));
  if (!HeadDimWithinLimits(s.head_dim)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %sattention.key_length must be even, > 0 and <= %d, got %d (when absent: "
        "embedding_length / head_count)",
        file.path(), prefix, kMaxHeadDim, s.head_dim));
  }
  KVLAB_ASSIGN_OR_RETURN(const gguf::TensorInfo* embedding, file.FindTensor("token_embd.weight"));
  if (embedding->dims.size() != 2 || embedding->dims[0] != s.hidden ||
      embedding->dims[1] <= 0 || embedding->dims[1] > kMaxVocab) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: token_embd.weight must be [vocab, %d] with 0 < vocab <= %d", file.path(), s.hidden,
        kMaxVocab));
  }
  s.vocab = embedding->dims[1];
  return s;
}

absl::Status CheckRopeBase(const gguf::GgufFile& file, const std::string& key, double base) {
  if (base > 1.0 && std::isfinite(base)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: %s must be a number > 1, got %g", file.path(), key, base));
}

absl::Status CheckRmsEpsilon(const gguf::GgufFile& file, const std::string& key, double eps) {
  if (eps > 0.0 && std::isfinite(eps)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: %s must be a number > 0, got %g", file.path(), key, eps));
}

absl::Status CheckContextLength(const gguf::GgufFile& file, const std::string& key,
                                int64_t length) {
  if (length > 0 || file.FindMetadata(key) == nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: %s must be > 0 (the positions the model was trained for), got %d", file.path(), key,
      length));
}

}  // namespace kvlab::model
