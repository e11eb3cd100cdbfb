#include "core/scored_eviction_policy.h"

#include <ATen/ATen.h>

#include <limits>
#include <tuple>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace kvlab {

absl::StatusOr<at::Tensor> ScoredEvictionPolicy::SelectKeep(const EvictionContext& context) {
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
  return std::get<1>(at::topk(key, context.budget, /*dim=*/1));
}

}  // namespace kvlab
