#include "experiments/slurm/same_runs.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace kvlab::experiments {

namespace {

// Wall-clock measurements, which differ between any two runs of the same thing, and
// how many samples a run read back rather than ran (a sample-sharded run reads them all).
bool IsTiming(const std::string& key) {
  return key == "seconds" || key == "tokens_per_second" || key == "resumed_samples";
}

// `json` without IsTiming keys, at any depth (a RULER run's details hold some).
nlohmann::json WithoutTiming(const nlohmann::json& json) {
  if (json.is_object()) {
    nlohmann::json kept = nlohmann::json::object();
    for (const auto& [key, value] : json.items()) {
      if (!IsTiming(key)) kept[key] = WithoutTiming(value);
    }
    return kept;
  }
  if (json.is_array()) {
    nlohmann::json kept = nlohmann::json::array();
    for (const nlohmann::json& value : json) kept.push_back(WithoutTiming(value));
    return kept;
  }
  return json;
}

absl::StatusOr<nlohmann::json> ParseList(absl::string_view text, const std::string& source) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: expected a JSON list of results (results.json)", source));
  }
  for (const nlohmann::json& run : json) {
    if (!run.is_object() || !run.contains("name") || !run["name"].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: expected every result to be an object with a name", source));
    }
  }
  return json;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> RunDifferences(absl::string_view a,
                                                        const std::string& source_a,
                                                        absl::string_view b,
                                                        const std::string& source_b) {
  absl::StatusOr<nlohmann::json> runs_a = ParseList(a, source_a);
  if (!runs_a.ok()) return runs_a.status();
  absl::StatusOr<nlohmann::json> runs_b = ParseList(b, source_b);
  if (!runs_b.ok()) return runs_b.status();
  std::vector<std::string> differences;
  if (runs_a->size() != runs_b->size()) {
    differences.push_back(
        absl::StrFormat("%d runs vs %d runs", runs_a->size(), runs_b->size()));
  }
  for (size_t i = 0; i < std::min(runs_a->size(), runs_b->size()); ++i) {
    const nlohmann::json x = WithoutTiming((*runs_a)[i]);
    const nlohmann::json y = WithoutTiming((*runs_b)[i]);
    const std::string name = x["name"].get<std::string>();
    if (name != y["name"].get<std::string>()) {
      differences.push_back(absl::StrFormat("run %d: %s vs %s", i, name,
                                            y["name"].get<std::string>()));
      continue;
    }
    std::set<std::string> keys;
    for (const auto& [key, value] : x.items()) keys.insert(key);
    for (const auto& [key, value] : y.items()) keys.insert(key);
    for (const std::string& key : keys) {
      const std::string value_a = x.contains(key) ? x[key].dump() : "(absent)";
      const std::string value_b = y.contains(key) ? y[key].dump() : "(absent)";
      // Numbers compare as the doubles they read back as: equal to the last bit.
      if (x.contains(key) && y.contains(key) && x[key] == y[key]) continue;
      differences.push_back(absl::StrFormat("%s: %s %s vs %s", name, key, value_a, value_b));
    }
  }
  return differences;
}

}  // namespace kvlab::experiments
