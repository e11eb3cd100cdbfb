// ScoredEvictionPolicy: the base of policies that rank tokens by a score.
//
// A subclass writes Score(); this class protects the first `sink_tokens` positions and
// the `recent_tokens` most recent tokens, then keeps the highest-scoring of the rest
// up to the budget. If the protected tokens alone exceed the budget, the most recent
// of them are kept (sinks first).
#ifndef KVLAB_CORE_SCORED_EVICTION_POLICY_H_
#define KVLAB_CORE_SCORED_EVICTION_POLICY_H_

#include <cstdint>

#include "core/eviction_policy.h"

namespace kvlab {

struct ProtectedTokens {
  int64_t sink_tokens = 0;    // Tokens at positions 0 .. sink_tokens-1 are kept.
  int64_t recent_tokens = 0;  // The most recent tokens are kept.
};

class ScoredEvictionPolicy : public EvictionPolicy {
 public:
  absl::StatusOr<at::Tensor> SelectKeep(const EvictionContext& context) final;

 protected:
  // Scores [kv_heads, length] fp32 (or [1, length] to share one choice across heads);
  // higher means keep.
  virtual absl::StatusOr<at::Tensor> Score(const EvictionContext& context) = 0;
  // Which tokens are kept regardless of score, for this context.
  virtual ProtectedTokens Protected(const EvictionContext& context) const { return {}; }
};

}  // namespace kvlab

#endif  // KVLAB_CORE_SCORED_EVICTION_POLICY_H_
