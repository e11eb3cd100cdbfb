// RULER's result plots (the `ruler` protocol), written as SVG beside results.json:
//
//   ruler_score_vs_memory.svg  the score averaged over tasks against the peak KV bytes
//                              held, one line per family of runs (a policy across
//                              budgets) and the Pareto front (the runs no other run
//                              beats on both) dashed: the perplexity-vs-memory plot's
//                              retrieval twin.
//   ruler_score_by_task.svg    each task's score, one line per run; with many runs, one
//                              file per budget (ruler_score_by_task_b<budget>.svg), the
//                              runs without eviction in each.
//
// With several lengths, each file is drawn per length (..._<length>.svg).
#ifndef KVLAB_EXPERIMENTS_RULER_PLOTS_H_
#define KVLAB_EXPERIMENTS_RULER_PLOTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "experiments/results.h"

namespace kvlab::experiments {

// Draws the runs whose details hold RULER's scores (`ruler_scores`, `ruler_average`);
// writes nothing when none do. `title` is short (the experiment's name); `subtitle` says
// protocol and model.
absl::Status WriteRulerPlots(const std::string& dir, const std::vector<RunRecord>& records,
                             const std::string& title, const std::string& subtitle);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_RULER_PLOTS_H_
