// Eviction budgets that can never evict: a budget at least as large as every token a
// cache holds under the protocol gives the dense cache's numbers under the evicting
// cache's name. Not an error (a sweep over budgets may reach past a short text), but
// said, once per cache, before the runs start.
#ifndef KVLAB_EXPERIMENTS_IDLE_BUDGETS_H_
#define KVLAB_EXPERIMENTS_IDLE_BUDGETS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "experiments/experiment.pb.h"

namespace kvlab::experiments {

// One line per cache of `e` whose largest layer budget (LayerBudgets over `num_layers`
// with `reference_tokens`) is at least `window_tokens`, the most tokens a cache holds
// under `e`'s protocol (MeasureProtocol), e.g. "caches[1] 'window-4096': eviction.budget
// (4096 tokens in its largest layer) is at least the 1024 tokens the cache ever holds:
// it evicts nothing, and its numbers are the dense cache's". Only for protocols that
// score predictions: one that scores answers (retrieval, RULER) has prompts of several
// lengths, and its caller does not ask.
std::vector<std::string> IdleBudgets(const config::Experiment& e, int64_t window_tokens,
                                     int num_layers, int64_t reference_tokens);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_IDLE_BUDGETS_H_
