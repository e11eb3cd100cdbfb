#include "eval/model/hf_config.h"

#include <cmath>
#include <limits>
#include <optional>

#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "eval/model/decoder_sizes.h"

namespace kvlab::model {

absl::StatusOr<HfConfig> HfConfig::Read(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrFormat("%s: cannot read the model's config", path));
  }
  return Parse(path, *text);
}

absl::StatusOr<HfConfig> HfConfig::Parse(const std::string& path, absl::string_view text) {
  KVLAB_ASSIGN_OR_RETURN(nlohmann::json json, ParseJsonText(path, text));
  if (!json.is_object()) {
    return absl::DataLossError(
        absl::StrFormat("%s: is a JSON %s, not an object", path, JsonTypeName(json)));
  }
  return HfConfig(path, std::move(json));
}

const nlohmann::json* HfConfig::Find(const std::string& field) const {
  const auto it = json_.find(field);
  if (it == json_.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::Status HfConfig::FieldError(const std::string& field, absl::string_view problem) const {
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s %s", path_, field, problem));
}

absl::Status HfConfig::Unsupported(const std::string& field, absl::string_view problem) const {
  return absl::UnimplementedError(absl::StrFormat("%s: %s %s", path_, field, problem));
}

absl::StatusOr<int64_t> HfConfig::Int(const std::string& field) const {
  const nlohmann::json* value = Find(field);
  if (value == nullptr) return FieldError(field, "is missing (an integer is required)");
  if (value->is_number_integer()) return value->get<int64_t>();
  // JSON writers may spell a whole number as 1.0e4.
  if (value->is_number_float()) {
    const double d = value->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9.0e15) {
      return static_cast<int64_t>(d);
    }
  }
  return FieldError(field, absl::StrFormat("must be an integer, got %s%s", JsonTypeName(*value),
                                           value->is_number() ? " " + value->dump() : ""));
}

absl::StatusOr<double> HfConfig::Double(const std::string& field) const {
  const nlohmann::json* value = Find(field);
  if (value == nullptr) return FieldError(field, "is missing (a number is required)");
  if (!value->is_number()) {
    return FieldError(field, absl::StrFormat("must be a number, got %s", JsonTypeName(*value)));
  }
  const double d = value->get<double>();
  if (!std::isfinite(d)) return FieldError(field, "must be finite");
  return d;
}

absl::StatusOr<int64_t> HfConfig::Int(const std::string& field, int64_t fallback) const {
  if (Find(field) == nullptr) return fallback;
  return Int(field);
}

absl::StatusOr<double> HfConfig::Double(const std::string& field, double fallback) const {
  if (Find(field) == nullptr) return fallback;
  return Double(field);
}

absl::StatusOr<bool> HfConfig::Bool(const std::string& field, bool fallback) const {
  const nlohmann::json* value = Find(field);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) {
    return FieldError(field, absl::StrFormat("must be true or false, got %s", JsonTypeName(*value)));
  }
  return value->get<bool>();
}

absl::StatusOr<std::string> HfConfig::String(const std::string& field,
                                             const std::string& fallback) const {
  const nlohmann::json* value = Find(field);
  if (value == nullptr) return fallback;
  if (!value->is_string()) {
    return FieldError(field, absl::StrFormat("must be a string, got %s", JsonTypeName(*value)));
  }
  return value->get<std::string>();
}

namespace {

// A number inside a rope object, named "<object_field>.<key>" in errors; `fallback`
// when absent or null, required when there is none.
absl::StatusOr<double> RopeNumber(const HfConfig& config, const nlohmann::json& object,
                                  const std::string& object_field, const std::string& key,
                                  std::optional<double> fallback = std::nullopt) {
  const std::string field = object_field + "." + key;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (fallback.has_value()) return *fallback;
    return config.FieldError(field, "is missing (a number is required)");
  }
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return config.FieldError(field, absl::StrFormat("must be a finite number, got %s", it->dump()));
  }
  return it->get<double>();
}

// The scaling an object with rope_type (or type) describes; `field` names it in errors.
absl::StatusOr<RopeScaling> ReadScaling(const HfConfig& config, const nlohmann::json& object,
                                        const std::string& field) {
  std::string type = "default";
  std::string type_field = field + ".rope_type";
  for (const char* key : {"rope_type", "type"}) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) continue;
    type_field = field + "." + key;
    if (!it->is_string()) return config.FieldError(type_field, "must be a string");
    type = it->get<std::string>();
    break;
  }
  RopeScaling scaling;
  if (type == "default") return scaling;
  if (type != "linear" && type != "llama3") {
    return config.Unsupported(
        type_field, absl::StrFormat("'%s' is not supported (kvlab runs 'default', 'linear' and "
                                    "'llama3' rotary embeddings)", type));
  }
  KVLAB_ASSIGN_OR_RETURN(scaling.factor, RopeNumber(config, object, field, "factor"));
  if (!(scaling.factor > 0.0)) return config.FieldError(field + ".factor", "must be > 0");
  if (type == "linear") {
    scaling.type = RopeScaling::Type::kLinear;
    return scaling;
  }
  scaling.type = RopeScaling::Type::kLlama3;
  KVLAB_ASSIGN_OR_RETURN(scaling.low_freq_factor,
                         RopeNumber(config, object, field, "low_freq_factor"));
  KVLAB_ASSIGN_OR_RETURN(scaling.high_freq_factor,
                         RopeNumber(config, object, field, "high_freq_factor"));
  if (!(scaling.low_freq_factor > 0.0) ||
      !(scaling.high_freq_factor > scaling.low_freq_factor)) {
    return config.FieldError(field + ".high_freq_factor",
                             absl::StrFormat("must be > low_freq_factor > 0, got %g and %g",
                                             scaling.high_freq_factor, scaling.low_freq_factor));
  }
  // transformers' standardize_rope_params: a top-level original_max_position_embeddings
  // wins, then the object's, then max_position_embeddings.
  std::string context_field = "original_max_position_embeddings";
  const nlohmann::json* context = config.Find(context_field);
  if (context == nullptr) {
    const auto it = object.find("original_max_position_embeddings");
    if (it != object.end() && !it->is_null()) {
      context = &*it;
      context_field = field + ".original_max_position_embeddings";
    }
  }
  if (context == nullptr) {
    context_field = "max_position_embeddings";
    context = config.Find(context_field);
  }
  if (context == nullptr || !context->is_number() || !(context->get<double>() > 0.0) ||
      !std::isfinite(context->get<double>())) {
    return config.FieldError(context_field, "must be a number > 0 (llama3 rope scaling's "
                                            "original context)");
  }
  scaling.original_context = context->get<double>();
  return scaling;
}

}  // namespace

absl::StatusOr<DecoderSizes> ReadHfSizes(const HfConfig& config,
                                          std::optional<int64_t> default_kv_heads,
                                          std::optional<int64_t> default_head_dim) {
  DecoderSizes s;
  KVLAB_ASSIGN_OR_RETURN(const int64_t layers, config.Int("num_hidden_layers"));
  KVLAB_ASSIGN_OR_RETURN(s.hidden, config.Int("hidden_size"));
  KVLAB_ASSIGN_OR_RETURN(s.ffn, config.Int("intermediate_size"));
  KVLAB_ASSIGN_OR_RETURN(s.q_heads, config.Int("num_attention_heads"));
  KVLAB_ASSIGN_OR_RETURN(s.kv_heads,
                         config.Int("num_key_value_heads", default_kv_heads.value_or(s.q_heads)));
  KVLAB_ASSIGN_OR_RETURN(s.vocab, config.Int("vocab_size"));
  if (!DecoderSizesWithinLimits(layers, s.hidden, s.ffn, s.q_heads, s.kv_heads) ||
      s.vocab <= 0 || s.vocab > kMaxVocab) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: inconsistent sizes: num_hidden_layers=%d hidden_size=%d intermediate_size=%d "
        "num_attention_heads=%d num_key_value_heads=%d vocab_size=%d (all > 0 and within "
        "bounds, the heads a multiple of the key-value heads)",
        config.path(), layers, s.hidden, s.ffn, s.q_heads, s.kv_heads, s.vocab));
  }
  s.num_layers = static_cast<int>(layers);
  KVLAB_ASSIGN_OR_RETURN(s.head_dim,
                         config.Int("head_dim", default_head_dim.value_or(s.hidden / s.q_heads)));
  if (!HeadDimWithinLimits(s.head_dim)) {
    return config.FieldError(
        "head_dim", absl::StrFormat("must be even, > 0 and <= %d, got %d%s", kMaxHeadDim, s.head_dim,
                                    default_head_dim.has_value()
                                        ? ""
                                        : " (or hidden_size / num_attention_heads)"));
  }
  return s;
}

absl::StatusOr<HfRope> ReadHfRope(const HfConfig& config, const std::string& theta_field,
                                  double fallback, const std::string& layer_type,
                                  bool legacy_scaling_applies) {
  HfRope rope;
  // transformers >= 5: rope_parameters {"rope_theta", "rope_type", ...}, or one such
  // object per layer type.
  const nlohmann::json* parameters = config.Find("rope_parameters");
  std::string field = "rope_parameters";
  if (parameters != nullptr) {
    if (!parameters->is_object()) return config.FieldError(field, "must be an object");
    if (!layer_type.empty() && parameters->contains(layer_type)) {
      field += "." + layer_type;
      parameters = &(*parameters)[layer_type];
      if (!parameters->is_object()) return config.FieldError(field, "must be an object");
    }
  }
  // The base.
  if (parameters != nullptr && parameters->contains("rope_theta") &&
      !parameters->at("rope_theta").is_null()) {
    KVLAB_ASSIGN_OR_RETURN(rope.base, RopeNumber(config, *parameters, field, "rope_theta"));
  } else {
    KVLAB_ASSIGN_OR_RETURN(rope.base, config.Double(theta_field, fallback));
  }
  // The scaling: transformers < 5's rope_scaling (null or an object) beside rope_theta
  // takes the place of rope_parameters, as transformers 5 reads it.
  const nlohmann::json* legacy = config.Find("rope_scaling");
  if (legacy != nullptr && !legacy->is_object()) {
    return config.FieldError("rope_scaling", "must be an object or null");
  }
  if (legacy != nullptr) {
    if (legacy_scaling_applies) {
      KVLAB_ASSIGN_OR_RETURN(rope.scaling, ReadScaling(config, *legacy, "rope_scaling"));
    }
  } else if (parameters != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(rope.scaling, ReadScaling(config, *parameters, field));
  }
  return rope;
}

absl::StatusOr<nlohmann::json> HfRopeScalingJson(const RopeScaling& scaling,
                                                 const std::string& source) {
  if (!scaling.frequency_divisors.empty()) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: rope_freqs.weight (per-pair frequency factors) has no config.json equivalent; "
        "convert the original checkpoint instead", source));
  }
  if (scaling.type == RopeScaling::Type::kNone) return nlohmann::json();
  return nlohmann::json{{"rope_type", RopeScalingTypeName(scaling.type)},
                        {"factor", scaling.factor}};
}

}  // namespace kvlab::model
