#include "experiments/experiment_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "experiments/config_loader.h"

ABSL_FLAG(std::string, config, "", "experiment config (text-format kvlab.config.Experiment)");
ABSL_FLAG(std::string, model, "", "overrides the config's model_path");
ABSL_FLAG(std::string, text, "", "overrides the config's text_path");
ABSL_FLAG(std::string, tokenizer, "", "overrides the config's tokenizer_path");
ABSL_FLAG(std::string, output_dir, "", "overrides the config's output_dir");
ABSL_FLAG(int32_t, threads, 0, "overrides the config's threads when > 0");

namespace kvlab::experiments {

absl::StatusOr<config::Experiment> ExperimentFromFlags() {
  if (absl::GetFlag(FLAGS_config).empty()) {
    return absl::InvalidArgumentError("--config=<experiment.pbtxt> is required");
  }
  if (absl::GetFlag(FLAGS_threads) < 0) {
    return absl::InvalidArgumentError("--threads: expected >= 0 (0: the config's)");
  }
  KVLAB_ASSIGN_OR_RETURN(config::Experiment experiment,
                         LoadExperiment(ResolveUserPath(absl::GetFlag(FLAGS_config))));
  if (!absl::GetFlag(FLAGS_model).empty()) experiment.set_model_path(absl::GetFlag(FLAGS_model));
  if (!absl::GetFlag(FLAGS_text).empty()) experiment.set_text_path(absl::GetFlag(FLAGS_text));
  if (!absl::GetFlag(FLAGS_tokenizer).empty()) {
    experiment.set_tokenizer_path(absl::GetFlag(FLAGS_tokenizer));
  }
  if (!absl::GetFlag(FLAGS_output_dir).empty()) {
    experiment.set_output_dir(absl::GetFlag(FLAGS_output_dir));
  }
  if (absl::GetFlag(FLAGS_threads) > 0) experiment.set_threads(absl::GetFlag(FLAGS_threads));
  return experiment;
}

}  // namespace kvlab::experiments
