#include "experiments/idle_budgets.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "core/layer_budgets.h"

namespace kvlab::experiments {

std::vector<std::string> IdleBudgets(const config::Experiment& e, int64_t window_tokens,
                                     int num_layers, int64_t reference_tokens) {
  std::vector<std::string> lines;
  if (window_tokens <= 0) return lines;
  for (int i = 0; i < e.caches_size(); ++i) {
    const config::CacheConfig& c = e.caches(i);
    if (!c.has_eviction()) continue;
    // An invalid budget is the cache factory's error to report, not this warning's.
    const absl::StatusOr<std::vector<int64_t>> budgets =
        LayerBudgets(c.eviction().budget(), num_layers, reference_tokens);
    if (!budgets.ok() || budgets->empty()) continue;
    const int64_t largest = *std::max_element(budgets->begin(), budgets->end());
    if (largest < window_tokens) continue;
    lines.push_back(absl::StrFormat(
        "caches[%d] '%s': eviction.budget (%d tokens in its largest layer) is at least the %d "
        "tokens the cache ever holds: it evicts nothing, and its numbers are the dense cache's",
        i, c.name(), largest, window_tokens));
  }
  return lines;
}

}  // namespace kvlab::experiments
