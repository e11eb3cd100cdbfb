// ScoredEvictionPolicy: the base of policies that rank tokens by a score.
//
// A subclass writes Score(); this class protects the first `sink_tokens` positions and
// the `recent_tokens` most recent tokens, then keeps the highest-scoring of the rest
// up to the budget. If the protected tokens alone exceed the budget, the most recent
// of them are kept (sinks first).
//
// By default every KV head keeps `budget` tokens. With AdaKV's allocation (Feng et al.,
// "Ada-KV: Optimizing KV Cache Eviction by Adaptive Budget Allocation", 2024,
// https://arxiv.org/abs/2407.11550; set_head_allocation) a layer keeps
// kv_heads x budget tokens in all, chosen by one top-k over the scores of all its heads
// together, so a head whose attention is spread out keeps more than one whose attention
// is concentrated. Its safeguard first gives each head its own best
// max(1, floor(floor x budget)) tokens (the protected ones ranking first), and the
// protected tokens are kept in every head. Scores are compared across heads as they
// are (attention probabilities, for the attention-based scorers AdaKV was made for).
// If the protected tokens alone fill the budget, there is nothing to share and every
// head keeps `budget`, as without it.
#ifndef KVLAB_CORE_SCORED_EVICTION_POLICY_H_
#define KVLAB_CORE_SCORED_EVICTION_POLICY_H_

#include <cstdint>
#include <vector>

#include "core/eviction_policy.h"

namespace kvlab {

// How a layer's budget is spread over its KV heads.
struct HeadAllocation {
  // false: every head keeps `budget` tokens.
  bool adakv = false;
  // AdaKV's safeguard alpha, in [0, 1]: the share of the budget each head keeps of its
  // own best tokens before the shared top-k (kvpress's alpha_safeguard, 0.2).
  double floor = 0.2;
};

struct ProtectedTokens {
  int64_t sink_tokens = 0;    // Tokens at positions 0 .. sink_tokens-1 are kept.
  int64_t recent_tokens = 0;  // The most recent tokens are kept.
};

class ScoredEvictionPolicy : public EvictionPolicy {
 public:
  absl::StatusOr<at::Tensor> SelectKeep(const EvictionContext& context) final;
  bool AllocatesPerHead() const final { return allocation_.adakv; }
  absl::StatusOr<std::vector<at::Tensor>> SelectKeepPerHead(const EvictionContext& context) final;
  // The order SelectKeep takes its tokens in: protected ones first (sinks, then by
  // recency), then by score.
  absl::StatusOr<at::Tensor> RankTokens(const EvictionContext& context) final;

  void set_head_allocation(const HeadAllocation& allocation) { allocation_ = allocation; }

 protected:
  // Scores [kv_heads, length] fp32 (or [1, length] to share one choice across heads);
  // higher means keep.
  virtual absl::StatusOr<at::Tensor> Score(const EvictionContext& context) = 0;
  // Which tokens are kept regardless of score, for this context.
  virtual ProtectedTokens Protected(const EvictionContext& context) const { return {}; }

 private:
  struct Ranked {
    at::Tensor scores;  // [kv_heads, length] fp32, NaN as -inf.
    // [kv_heads, length] int64: each head's rank of a token by score, in [0, length),
    // protected tokens lifted to >= length (sinks highest, then by recency).
    at::Tensor key;
  };
  absl::StatusOr<Ranked> Rank(const EvictionContext& context);

  HeadAllocation allocation_;
};

}  // namespace kvlab

#endif  // KVLAB_CORE_SCORED_EVICTION_POLICY_H_
