// Runs an experiment: loads the model and text once, runs the protocol for every
// cache configuration, and writes results after each run so that nothing finished is
// lost if a later run fails or is interrupted.
#ifndef KVLAB_EXPERIMENTS_EXPERIMENT_RUNNER_H_
#define KVLAB_EXPERIMENTS_EXPERIMENT_RUNNER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "experiments/experiment.pb.h"
#include "experiments/results.h"

namespace kvlab::experiments {

// Runs `experiment` (already validated by LoadExperiment) and returns one record per
// cache. Paths in it are resolved with ResolveUserPath(). Progress goes to stderr.
absl::StatusOr<std::vector<RunRecord>> RunExperiment(const config::Experiment& experiment);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_EXPERIMENT_RUNNER_H_
