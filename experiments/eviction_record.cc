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
  // One line per layer keeps the file compact and still readable with a pager.
  std::string out =
      absl::StrFormat("{\"name\": %s, \"sequences\": [\n", nlohmann::json(name).dump());
  for (size_t s = 0; s < sequences.size(); ++s) {
    out += " {\"layers\": [\n";
    const SequenceEvictions& layers = sequences[s];
    for (size_t l = 0; l < layers.size(); ++l) {
      const nlohmann::ordered_json layer = {{"layer", l},
                                            {"evictions", layers[l].evictions},
                                            {"retained_mass", layers[l].mean_retained_mass},
                                            {"kept_positions", layers[l].kept_positions}};
      out += "  " + layer.dump() + (l + 1 < layers.size() ? ",\n" : "\n");
    }
    out += s + 1 < sequences.size() ? " ]},\n" : " ]}\n";
  }
  out += "]}\n";
  return out;
}

}  // namespace kvlab::experiments
