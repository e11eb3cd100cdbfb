// Whether two results.json files hold the same runs with the same numbers: the check
// that a sweep run as shards and merged equals the same sweep run in one process.
#ifndef KVLAB_EXPERIMENTS_SLURM_SAME_RUNS_H_
#define KVLAB_EXPERIMENTS_SLURM_SAME_RUNS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvlab::experiments {

// The differences between two results.json texts, one line each ("h2o-int4:
// perplexity 56.76 vs 57.07"); empty when they list the same runs in the same order
// with every field equal, to the last bit, except the wall-clock ones (seconds,
// tokens_per_second), which no two runs share. Errors name `source_a` or `source_b`.
absl::StatusOr<std::vector<std::string>> RunDifferences(absl::string_view a,
                                                        const std::string& source_a,
                                                        absl::string_view b,
                                                        const std::string& source_b);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_SLURM_SAME_RUNS_H_
