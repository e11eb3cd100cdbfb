// Loading experiment configs (text-format kvlab.config.Experiment).
#ifndef KVLAB_EXPERIMENTS_CONFIG_LOADER_H_
#define KVLAB_EXPERIMENTS_CONFIG_LOADER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "experiments/experiment.pb.h"

namespace kvlab::experiments {

// The model used when a config names none.
inline constexpr char kDefaultModelPath[] = "third_party/models/SmolLM2-135M-Instruct.Q4_1.gguf";

// Experiment.min_scored_tokens when a config leaves it unset.
inline constexpr int64_t kDefaultMinScoredTokens = 64;

// Reads and parses `path`, fills defaults and validates. A syntax error names
// file:line:column and the field; a bad value names the field and what was expected.
absl::StatusOr<config::Experiment> LoadExperiment(const std::string& path);

// Same, from text; `path` names the source in messages and gives the default name.
absl::StatusOr<config::Experiment> ParseExperiment(absl::string_view text,
                                                   const std::string& path);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_CONFIG_LOADER_H_
