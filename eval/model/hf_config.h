// HfConfig: a Hugging Face model's config.json, with typed field reads whose errors are
// one line naming the file and the field.
//
//   KVLAB_ASSIGN_OR_RETURN(HfConfig config, HfConfig::Read(dir + "/config.json"));
//   KVLAB_ASSIGN_OR_RETURN(int64_t layers, config.Int("num_hidden_layers"));
//   KVLAB_ASSIGN_OR_RETURN(double eps, config.Double("rms_norm_eps", 1e-6));  // Default.
//
// Which architecture it describes is the registry's to say (HfArchitecture() in
// architecture.h).
#ifndef KVLAB_EVAL_MODEL_HF_CONFIG_H_
#define KVLAB_EVAL_MODEL_HF_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/rope_scaling.h"
#include "eval/model/decoder_sizes.h"

namespace kvlab::model {

class HfConfig {
 public:
  // Reads and parses `path`; NotFound if unreadable, DataLoss unless a JSON object.
  static absl::StatusOr<HfConfig> Read(const std::string& path);
  // Parses `text` as the contents of `path`.
  static absl::StatusOr<HfConfig> Parse(const std::string& path, absl::string_view text);

  const std::string& path() const { return path_; }
  const nlohmann::json& json() const { return json_; }

  // Required fields: InvalidArgument naming the file and field when absent (or null)
  // or of another type. Int accepts only whole numbers; Double any number.
  absl::StatusOr<int64_t> Int(const std::string& field) const;
  absl::StatusOr<double> Double(const std::string& field) const;
  // Optional fields: `fallback` when absent or null, an error when of another type.
  absl::StatusOr<int64_t> Int(const std::string& field, int64_t fallback) const;
  absl::StatusOr<double> Double(const std::string& field, double fallback) const;
  absl::StatusOr<bool> Bool(const std::string& field, bool fallback) const;
  absl::StatusOr<std::string> String(const std::string& field, const std::string& fallback) const;
  // The field when present and not null, else nullptr.
  const nlohmann::json* Find(const std::string& field) const;

  // An error about `field` ("<path>: <field> <problem>"), with `code`.
  absl::Status FieldError(const std::string& field, absl::string_view problem) const;
  absl::Status Unsupported(const std::string& field, absl::string_view problem) const;

 private:
  HfConfig(std::string path, nlohmann::json json) : path_(std::move(path)), json_(std::move(json)) {}

  std::string path_;
  nlohmann::json json_;
};

// Reads the sizes: all required but num_key_value_heads, `default_kv_heads` when absent
// (nullopt: num_attention_heads, as Llama and Qwen2), and head_dim, `default_head_dim`
// when absent (nullopt: hidden_size / num_attention_heads). InvalidArgument naming the
// file and the fields unless they are within decoder_sizes.h's limits.
absl::StatusOr<DecoderSizes> ReadHfSizes(const HfConfig& config,
                                          std::optional<int64_t> default_kv_heads,
                                          std::optional<int64_t> default_head_dim);

// A rotary embedding as config.json describes it: its base and frequency scaling.
struct HfRope {
  double base = 10000.0;
  RopeScaling scaling;
};

// Reads the rotary embedding as transformers does. The base: rope_parameters.rope_theta
// (transformers 5; rope_parameters.<layer_type>.rope_theta when it holds one object per
// layer type), else the field `theta_field` (earlier versions), else `fallback`. The
// scaling: the object rope_scaling (earlier versions; for Gemma 3 it scales the global
// layers only, so a caller reading the local layers' rope passes
// `legacy_scaling_applies` false), else the rope_parameters object the base came from.
// Its rope_type (or type) "default" is none, "linear" needs factor, "llama3" needs
// factor, low_freq_factor and high_freq_factor, with original_max_position_embeddings
// from the top level, the object, or else max_position_embeddings (transformers'
// order). Any other type is Unimplemented naming the field, the type and the supported
// ones; a missing or malformed parameter is InvalidArgument naming it.
absl::StatusOr<HfRope> ReadHfRope(const HfConfig& config, const std::string& theta_field,
                                  double fallback, const std::string& layer_type = "",
                                  bool legacy_scaling_applies = true);

// The inverse of ReadHfRope's scaling, for writing a config.json from a GGUF: null, or
// {"rope_type": "linear", "factor": ...}. Per-pair divisors (GGUF's rope_freqs.weight)
// have no config.json form that transformers would read back as the same frequencies:
// Unimplemented naming `source`.
absl::StatusOr<nlohmann::json> HfRopeScalingJson(const RopeScaling& scaling,
                                                 const std::string& source);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_HF_CONFIG_H_
