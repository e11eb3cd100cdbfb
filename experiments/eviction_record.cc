#include "experiments/eviction_record.h"

#include <cmath>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace kvlab::experiments {

std::vector<double> RetainedMassByLayer(const std::vector<SequenceEvictions>& sequences) {
  if (sequences.empty()) return {};
  const size_t layers = sequences.front().size();
  std::vector<double> sum(layers, 0.0);
  std::vector<int64_t> count(layers, 0);
  for (const SequenceEvictions& sequence : sequences) {
    for (size_t l = 0; l < layers && l < sequence.size(); ++l) {
      if (sequence[l].evictions == 0) continue;
      for (double mass : sequence[l].mean_retained_mass) {
        sum[l] += mass;
        ++count[l];
      }
    }
  }
  std::vector<double> mean(layers);
  for (size_t l = 0; l < layers; ++l) mean[l] = count[l] > 0 ? sum[l] / count[l] : NAN;
  return mean;
}

std::string EvictionsFile(const std::string& output_dir, const std::string& name) {
  return absl::StrFormat("%s/runs/%s.evictions.json", output_dir, name);
}

std::string EvictionsToJson(const std::string& name,
                            const std::vector<SequenceEvictions>& sequences) {
  using Json = nlohmann::ordered_json;
  Json all = Json::array();
  for (const SequenceEvictions& sequence : sequences) {
    Json layers = Json::array();
    for (size_t l = 0; l < sequence.size(); ++l) {
      const eval::LayerEvictionRecord& r = sequence[l];
      layers.push_back({{"layer", l},
                        {"evictions", r.evictions},
                        {"retained_mass", r.mean_retained_mass},
                        {"kept_positions", r.kept_positions}});
    }
    all.push_back({{"layers", layers}});
  }
  // One line per layer keeps the file compact and still readable with a pager.
  std::string out = absl::StrFormat("{\"name\": %s, \"sequences\": [\n", Json(name).dump());
  for (size_t s = 0; s < all.size(); ++s) {
    out += " {\"layers\": [\n";
    const Json& layers = all[s]["layers"];
    for (size_t l = 0; l < layers.size(); ++l) {
      out += "  " + layers[l].dump() + (l + 1 < layers.size() ? ",\n" : "\n");
    }
    out += s + 1 < all.size() ? " ]},\n" : " ]}\n";
  }
  out += "]}\n";
  return out;
}

}  // namespace kvlab::experiments
