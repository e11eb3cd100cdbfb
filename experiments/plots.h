// Result plots, written as SVG beside results.json:
//
//   perplexity_vs_memory.svg  perplexity against peak KV bytes held (log axes where the
//                             values span more than 4x), one line
//                             per family of runs (a policy across budgets, say) and the
//                             Pareto front (the runs no other run beats on both) dashed.
//   retained_mass_by_layer.svg  runs that recorded their evictions
//                             (Experiment.record_evictions) only: per layer, the share
//                             of the last query's attention the evictions kept, one
//                             line per run.
//   nll_by_position.svg       streaming runs only: mean NLL per bucket of positions,
//                             one line per run; with many runs, one file per budget
//                             (nll_by_position_b<budget>.svg), runs without eviction in
//                             each.
#ifndef KVLAB_EXPERIMENTS_PLOTS_H_
#define KVLAB_EXPERIMENTS_PLOTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "experiments/results.h"
#include "experiments/svg_chart.h"

namespace kvlab::experiments {

// A run's family: its name without its budget ("h2o-256", "h2o-b256" -> "h2o";
// "sink-b128-slot" -> "sink-slot"), so that one line joins a policy across budgets.
std::string Family(const RunRecord& record);

// The budget a sweep's run name gives ("snapkv-b1024-int8" -> 1024), else the record's
// (the mean over layers, which a layer-allocating policy such as PyramidKV moves off
// the budget it was given); 0 without eviction.
int64_t NamedBudget(const RunRecord& record);

// Draws one line per family (in first-seen order, each sorted by x) over the Pareto
// front of every point, dashed: sorted by x, the points that improve on the best y so
// far, a lower y when `lower_is_better`.
struct FamilyPoint {
  std::string family;
  LineChart::Point point;
};
void AddFamiliesAndParetoFront(LineChart& chart, const std::vector<FamilyPoint>& points,
                               bool lower_is_better);

// `title` is short (the experiment's name); `subtitle` says protocol and model.
absl::Status WritePlots(const std::string& dir, const std::vector<RunRecord>& records,
                        const std::string& title, const std::string& subtitle);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_PLOTS_H_
