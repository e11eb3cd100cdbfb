// Per-layer token budgets for eviction.
#ifndef KVLAB_CORE_LAYER_BUDGETS_H_
#define KVLAB_CORE_LAYER_BUDGETS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/cache_config.pb.h"

namespace kvlab {

// A budget that is a fraction of the tokens seen so far (Budget.fraction_of_seen):
// fraction 0 means the budget is a fixed token count instead.
struct SeenFraction {
  double fraction = 0.0;
  int64_t interval = 1;  // Tokens seen between two compressions.
};

// The Budget's fraction_of_seen and compression_interval, checked; a zero fraction for
// a fixed budget.
absl::StatusOr<SeenFraction> SeenFractionOf(const config::Budget& budget);

// Turns a Budget into one token count per layer. A fractional budget is a fraction of
// `reference_tokens` (the protocol's context). UNIFORM gives every layer the same
// budget; PYRAMID falls linearly from the first layer to the last, the last at
// pyramid_top_ratio of the first, with the same total as UNIFORM; PYRAMIDKV is
// PyramidKV's beta schedule (cache_config.proto), whose window is the policy's
// `observation_window` (EvictionPolicy::ObservationWindow(), 0 for none): an unset
// pyramidkv_window takes it, a set one must equal it. Every layer keeps at least one
// token. A fraction_of_seen budget grows with the stream (EvictingKvCache applies it);
// the count given for it is the most a layer holds between steps over
// `reference_tokens`: its final share plus compression_interval - 1. Errors name the
// field (relative to the Budget message).
absl::StatusOr<std::vector<int64_t>> LayerBudgets(const config::Budget& budget, int num_layers,
                                                  int64_t reference_tokens,
                                                  int64_t observation_window = 0);

// CAKE's split of `total` tokens over layers in proportion to their preferences
// (Qin et al., ICLR 2025; antgroup/cakekv, cake/cake_cache.py:215-217 and
// cake/utils.py:adjust_budgets): each share truncated to an integer and capped at its
// layer's `caps` entry, the excess spread evenly over the uncapped layers (the first
// ones taking the remainder), then what truncation lost (or the spread gained) spread
// the same way over the layers below their cap (above 1 when taking away). As in the
// reference, that last spread may leave a share above its cap: the caller clamps.
// Preferences are >= 0; if all are 0, every layer weighs the same.
std::vector<int64_t> PreferenceShares(absl::Span<const double> preferences, int64_t total,
                                      absl::Span<const int64_t> caps);

}  // namespace kvlab

#endif  // KVLAB_CORE_LAYER_BUDGETS_H_
