// The flags shared by the binaries that take an experiment config (run, merge):
// --config, and --model, --text, --output_dir and --threads overriding its fields.
#ifndef KVLAB_EXPERIMENTS_EXPERIMENT_FLAGS_H_
#define KVLAB_EXPERIMENTS_EXPERIMENT_FLAGS_H_

#include "absl/status/statusor.h"
#include "experiments/experiment.pb.h"

namespace kvlab::experiments {

// Loads --config (LoadExperiment) and applies the overriding flags. Errors name the
// flag or the config's file and field.
absl::StatusOr<config::Experiment> ExperimentFromFlags();

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_EXPERIMENT_FLAGS_H_
