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
// Under a protocol of independent samples (SampleShardGroups > 0) a shard instead runs
// its share of the samples of every unfinished batch, keeps their records in
// runs/<first cache>.progress.<I>-of-<N>.jsonl and returns no records; a later
// unsharded run reads every shard's samples back, runs any that are missing, writes the
// runs and the aggregate files, and removes the progress files.
absl::StatusOr<std::vector<RunRecord>> RunExperiment(const config::Experiment& experiment,
                                                     const Shard& shard = Shard());

// How many sample groups shards of `experiment` split between them (Protocol::
// SampleGroups); 0 when shards take whole lockstep batches. Errors: no protocol set.
absl::StatusOr<int64_t> SampleShardGroups(const config::Experiment& experiment);

// The names of `experiment`'s caches, in config order (what ShardBatches hashes).
std::vector<std::string> CacheNames(const config::Experiment& experiment);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_EXPERIMENT_RUNNER_H_
