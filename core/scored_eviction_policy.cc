#include "core/scored_eviction_policy.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace kvlab {

absl::StatusOr<ScoredEvictionPolicy::Ranked> ScoredEvictionPolicy::Rank(
    const EvictionContext& context) {
  KVLAB_ASSIGN_OR_RETURN(at::Tensor scores, Score(context));
  const int64_t kv_heads = context.positions.size(0);
  const int64_t length = context.positions.size(1);
  if (scores.dim() != 2 || (scores.size(0) != kv_heads && scores.size(0) != 1) ||
      scores.size(1) != length) {
    return absl::InternalError(absl::StrFormat(
        "policy '%s' scored %s, expected [%d or 1, %d]", Name(), c10::str(scores.sizes()),
        kv_heads, length));
  }
  // Scores become exact integer ranks (NaN, from a broken heuristic, ranks lowest),
  // then protected tokens are lifted above every rank: sinks first, then the recent
  // tokens by recency, so a budget smaller than the protected set cuts the oldest.
  scores = at::nan_to_num(scores.to(at::kFloat).expand({kv_heads, length}),
                          -std::numeric_limits<float>::infinity());
  // [kv_heads, length] int64 ranks in [0, length).
  at::Tensor key = scores.argsort(/*dim=*/1, /*descending=*/false).argsort(/*dim=*/1, false);
  const ProtectedTokens keep_always = Protected(context);
  const at::Tensor slot =
      at::arange(length, key.options()).unsqueeze(0).expand({kv_heads, length});
  if (keep_always.recent_tokens > 0) {
    key = at::where(slot >= length - keep_always.recent_tokens, slot + length, key);
  }
  if (keep_always.sink_tokens > 0) {
    key = at::where(context.positions < keep_always.sink_tokens, 3 * length - slot, key);
  }
  return Ranked{std::move(scores), std::move(key)};
}

absl::StatusOr<at::Tensor> ScoredEvictionPolicy::SelectKeep(const EvictionContext& context) {
  KVLAB_ASSIGN_OR_RETURN(const Ranked ranked, Rank(context));
  return std::get<1>(at::topk(ranked.key, context.budget, /*dim=*/1));
}

absl::StatusOr<at::Tensor> ScoredEvictionPolicy::RankTokens(const EvictionContext& context) {
  KVLAB_ASSIGN_OR_RETURN(const Ranked ranked, Rank(context));
  // The keys are distinct integers, so this order and SelectKeep's top-k agree.
  return ranked.key.argsort(/*dim=*/1, /*descending=*/true);
}

absl::StatusOr<std::vector<at::Tensor>> ScoredEvictionPolicy::SelectKeepPerHead(
    const EvictionContext& context) {
  KVLAB_ASSIGN_OR_RETURN(const Ranked ranked, Rank(context));
  const int64_t kv_heads = ranked.key.size(0);
  const int64_t length = ranked.key.size(1);
  const int64_t budget = context.budget;
  // The safeguard: floor(alpha x budget) tokens, at least one unless alpha is 0
  // (kvpress's n_safe; AdaKV's reference code floors the same product).
  int64_t safe = static_cast<int64_t>(std::floor(allocation_.floor * static_cast<double>(budget)));
  if (allocation_.floor > 0.0) safe = std::max<int64_t>(safe, 1);
  // Protected tokens rank >= length; every head protects as many (the rows are alike
  // before any per-head eviction), so row 0 says how many.
  const int64_t protected_count = ranked.key[0].ge(length).sum().item<int64_t>();
  std::vector<at::Tensor> keep;
  keep.reserve(kv_heads);
  if (protected_count >= budget) {
    const at::Tensor uniform = std::get<1>(at::topk(ranked.key, budget, /*dim=*/1));
    for (int64_t h = 0; h < kv_heads; ++h) keep.push_back(uniform[h]);
    return keep;
  }
  // Pinned: each head's best max(safe, protected) tokens by its own order, protected
  // first. They score +inf, so the shared top-k below takes them all (at most budget
  // per head, kv_heads x budget in all).
  const int64_t pinned_count = std::min(budget, std::max(safe, protected_count));
  const at::Tensor pinned = std::get<1>(at::topk(ranked.key, pinned_count, /*dim=*/1));
  // (A score of +inf from the scorer is lowered to the largest float: only pinned
  // tokens outrank everything.)
  const at::Tensor scores = ranked.scores.clamp_max(std::numeric_limits<float>::max())
                                .scatter_(1, pinned, std::numeric_limits<float>::infinity());
  // One top-k over the flattened scores of every head: kv_heads x budget tokens.
  const at::Tensor chosen =
      std::get<1>(at::topk(scores.reshape({-1}), kv_heads * budget, /*dim=*/0));
  const at::Tensor kept = at::zeros({kv_heads * length}, scores.options().dtype(at::kBool))
                              .index_fill_(0, chosen, true)
                              .view({kv_heads, length});
  for (int64_t h = 0; h < kv_heads; ++h) keep.push_back(kept[h].nonzero().squeeze(1));
  return keep;
}

}  // namespace kvlab
