// The aggregate files of an experiment's output directory: results.json, results.csv,
// results.md and the plots, built from its finished runs. Written by an unsharded run
// when it ends, and by `merge` from the runs that shards wrote.
#ifndef KVLAB_EXPERIMENTS_AGGREGATE_H_
#define KVLAB_EXPERIMENTS_AGGREGATE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "experiments/experiment.pb.h"
#include "experiments/results.h"

namespace kvlab::experiments {

// Writes the aggregate files for `records` (in config order) into `output_dir`, titled
// with the experiment's name, protocol and `model_name`; deltas are against the
// experiment's baseline when it is among the records.
absl::Status WriteAggregates(const config::Experiment& experiment, const std::string& model_name,
                             const std::vector<RunRecord>& records, const std::string& output_dir);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_AGGREGATE_H_
