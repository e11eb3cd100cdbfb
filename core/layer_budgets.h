// Per-layer token budgets for eviction.
#ifndef KVLAB_CORE_LAYER_BUDGETS_H_
#define KVLAB_CORE_LAYER_BUDGETS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cache_config.pb.h"

namespace kvlab {

// Turns a Budget into one token count per layer. A fractional budget is a fraction of
// `reference_tokens` (the protocol's context). UNIFORM gives every layer the same
// budget; PYRAMID falls linearly from the first layer to the last, the last at
// pyramid_top_ratio of the first, with the same total as UNIFORM; PYRAMIDKV is
// PyramidKV's beta schedule (cache_config.proto), whose window is the policy's
// `observation_window` (EvictionPolicy::ObservationWindow(), 0 for none): an unset
// pyramidkv_window takes it, a set one must equal it. Every layer keeps at least one
// token. Errors name the field (relative to the Budget message).
absl::StatusOr<std::vector<int64_t>> LayerBudgets(const config::Budget& budget, int num_layers,
                                                  int64_t reference_tokens,
                                                  int64_t observation_window = 0);

}  // namespace kvlab

#endif  // KVLAB_CORE_LAYER_BUDGETS_H_
