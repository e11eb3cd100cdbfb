// Runs an experiment config and prints its perplexity table.
//
//   bazel run //experiments:run -- --config=experiments/configs/baseline.pbtxt
//
// Flags override the config's model and text paths and output directory.
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "experiments/config_loader.h"
#include "experiments/experiment_runner.h"
#include "experiments/results.h"

ABSL_FLAG(std::string, config, "", "experiment config (text-format kvlab.config.Experiment)");
ABSL_FLAG(std::string, model, "", "overrides the config's model_path");
ABSL_FLAG(std::string, text, "", "overrides the config's text_path");
ABSL_FLAG(std::string, output_dir, "", "overrides the config's output_dir");

namespace kvlab::experiments {
namespace {

absl::Status Run() {
  if (absl::GetFlag(FLAGS_config).empty()) {
    return absl::InvalidArgumentError("--config=<experiment.pbtxt> is required");
  }
  KVLAB_ASSIGN_OR_RETURN(config::Experiment experiment,
                         LoadExperiment(ResolveUserPath(absl::GetFlag(FLAGS_config))));
  if (!absl::GetFlag(FLAGS_model).empty()) experiment.set_model_path(absl::GetFlag(FLAGS_model));
  if (!absl::GetFlag(FLAGS_text).empty()) experiment.set_text_path(absl::GetFlag(FLAGS_text));
  if (!absl::GetFlag(FLAGS_output_dir).empty()) {
    experiment.set_output_dir(absl::GetFlag(FLAGS_output_dir));
  }
  KVLAB_ASSIGN_OR_RETURN(const std::vector<RunRecord> records, RunExperiment(experiment));
  absl::PrintF("%s", FormatTable(records, FindBaseline(records, experiment.baseline())));
  return absl::OkStatus();
}

}  // namespace
}  // namespace kvlab::experiments

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Runs a kvlab experiment: run --config=experiments/configs/x.pbtxt");
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = kvlab::experiments::Run();
  if (!status.ok()) {
    absl::FPrintF(stderr, "run: %s\n", status.message());
    return 1;
  }
  return 0;
}
