#include "eval/model/hf_config.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/json_text.h"
#include "base/status_macros.h"

namespace kvlab::model {

namespace {

struct KnownArchitecture {
  const char* model_type;    // config.json's model_type
  const char* class_name;    // its "architectures" entry
  const char* architecture;  // kvlab's name
};

constexpr KnownArchitecture kKnown[] = {
    {"llama", "LlamaForCausalLM", "llama"},
    {"qwen2", "Qwen2ForCausalLM", "qwen2"},
    {"gemma3_text", "Gemma3ForCausalLM", "gemma3"},
};

std::string KnownList() {
  std::vector<std::string> names;
  for (const KnownArchitecture& k : kKnown) {
    names.push_back(absl::StrFormat("%s (%s)", k.model_type, k.class_name));
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace

const std::vector<std::string>& SupportedHfArchitectures() {
  static const auto* const kNames = new std::vector<std::string>{"llama", "qwen2", "gemma3"};
  return *kNames;
}

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

absl::StatusOr<std::string> HfConfig::Architecture() const {
  if (const nlohmann::json* type = Find("model_type"); type != nullptr) {
    if (!type->is_string()) return FieldError("model_type", "must be a string");
    for (const KnownArchitecture& k : kKnown) {
      if (*type == k.model_type) return std::string(k.architecture);
    }
    return absl::UnimplementedError(absl::StrFormat(
        "%s: model_type '%s' is not supported; kvlab runs %s", path_,
        type->get<std::string>(), KnownList()));
  }
  const nlohmann::json* classes = Find("architectures");
  if (classes == nullptr || !classes->is_array() || classes->empty() ||
      !(*classes)[0].is_string()) {
    return FieldError("model_type", "is missing (and no \"architectures\" list names the model)");
  }
  for (const KnownArchitecture& k : kKnown) {
    if ((*classes)[0] == k.class_name) return std::string(k.architecture);
  }
  return absl::UnimplementedError(absl::StrFormat(
      "%s: architectures[0] '%s' is not supported; kvlab runs %s", path_,
      (*classes)[0].get<std::string>(), KnownList()));
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

absl::StatusOr<double> HfRopeBase(const HfConfig& config, const std::string& theta_field,
                                  double fallback, const std::string& layer_type) {
  // transformers < 5: rope_scaling (null or {"rope_type"/"type": ...}) beside rope_theta.
  if (const nlohmann::json* scaling = config.Find("rope_scaling"); scaling != nullptr) {
    if (!scaling->is_object()) return config.FieldError("rope_scaling", "must be an object or null");
    std::string type = "default";
    for (const char* key : {"rope_type", "type"}) {
      const auto it = scaling->find(key);
      if (it != scaling->end() && it->is_string()) type = it->get<std::string>();
    }
    if (type != "default") {
      return config.Unsupported(
          "rope_scaling", absl::StrFormat("of type '%s' is not supported (kvlab's rotary "
                                          "embedding has no frequency scaling)", type));
    }
  }
  const nlohmann::json* parameters = config.Find("rope_parameters");
  if (parameters == nullptr) return config.Double(theta_field, fallback);
  // transformers >= 5: rope_parameters {"rope_theta", "rope_type"}, or one such object
  // per layer type.
  std::string field = "rope_parameters";
  if (!parameters->is_object()) return config.FieldError(field, "must be an object");
  if (!layer_type.empty() && parameters->contains(layer_type)) {
    field += "." + layer_type;
    parameters = &(*parameters)[layer_type];
    if (!parameters->is_object()) return config.FieldError(field, "must be an object");
  }
  const auto type = parameters->find("rope_type");
  if (type != parameters->end() && !(type->is_string() && *type == "default")) {
    return config.Unsupported(field + ".rope_type",
                              absl::StrFormat("%s is not supported (kvlab's rotary embedding has "
                                              "no frequency scaling)", type->dump()));
  }
  const auto theta = parameters->find("rope_theta");
  if (theta == parameters->end()) return config.Double(theta_field, fallback);
  if (!theta->is_number() || !std::isfinite(theta->get<double>())) {
    return config.FieldError(field + ".rope_theta", "must be a number");
  }
  return theta->get<double>();
}

}  // namespace kvlab::model
