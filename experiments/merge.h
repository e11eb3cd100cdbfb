// Gathering the finished runs of an experiment from its output directory, as shards
// left them, for `merge` to build the aggregate files from.
#ifndef KVLAB_EXPERIMENTS_MERGE_H_
#define KVLAB_EXPERIMENTS_MERGE_H_

#include <string>
#include <vector>

#include "experiments/experiment.pb.h"
#include "experiments/results.h"

namespace kvlab::experiments {

struct MergedRuns {
  // The finished runs whose fingerprint matches the config, in config order.
  std::vector<RunRecord> records;
  // Runs not finished: "name", or "name (in progress: host pid N)" while a lock names
  // an owner.
  std::vector<std::string> missing;
  // Runs whose stored result does not belong to this config, or is unreadable: one
  // line each, naming the file and why.
  std::vector<std::string> refused;

  bool complete() const { return missing.empty() && refused.empty(); }
};

// Reads runs/<name>.json for every cache of `experiment` from `output_dir`; a run
// counts only if its fingerprint is the one the config, model and text give now
// (RunFingerprint with `model_hash` and `text_hash`, extended by WithRunSettings with
// `threads` and `library_build`: a run made with other threads, in another lockstep
// company or with other libraries is refused, not mixed in).
MergedRuns CollectFinishedRuns(const config::Experiment& experiment, const std::string& output_dir,
                               const std::string& model_hash, const std::string& text_hash,
                               int threads, const std::string& library_build);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_MERGE_H_
