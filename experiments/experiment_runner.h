// Runs an experiment: loads the model and text once, runs the protocol for every
// cache configuration, and writes results after each run so that nothing finished is
// lost if a later run fails or is interrupted.
#ifndef KVLAB_EXPERIMENTS_EXPERIMENT_RUNNER_H_
#define KVLAB_EXPERIMENTS_EXPERIMENT_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/experiment.pb.h"
#include "experiments/results.h"
#include "experiments/shard.h"

namespace kvlab::experiments {

// Runs `experiment` (already validated by LoadExperiment) and returns one record per
// cache, in config order. Paths in it are resolved with ResolveUserPath(). Progress
// goes to stderr. Runs already finished in the output directory with a matching
// fingerprint are not run again.
//
// With a `shard` other than the whole (shard.h), runs only that shard's lockstep
// batches, claims each run with a lock file beside its result (run_lock.h) and skips a
// batch another live process holds, writes only runs/<name>.json, never the aggregate
// files (`merge` builds those), and returns the records of its runs that are finished.
absl::StatusOr<std::vector<RunRecord>> RunExperiment(const config::Experiment& experiment,
                                                     const Shard& shard = Shard());

// The names of `experiment`'s caches, in config order (what ShardBatches hashes).
std::vector<std::string> CacheNames(const config::Experiment& experiment);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_EXPERIMENT_RUNNER_H_
