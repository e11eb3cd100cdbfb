// "keydiff": keep the keys least similar to the average key.
//
// Park et al., "KeyDiff: Key Similarity-Based KV Cache Eviction for Long-Context LLM
// Inference in Resource-Constrained Environments", 2025.
// https://arxiv.org/abs/2504.15364
//
// As kvpress's KeyDiffPress (presses/keydiff_press.py), per KV head: the anchor is the
// mean of the held keys scaled to unit length, and a token's score is minus the
// cosine similarity of its key to the anchor. Keys are read as attention reads them,
// rotated at their original positions (kvpress's cache holds them rotated too).
#include <ATen/ATen.h>

#include "core/scored_eviction_policy.h"
#include "policies/keydiff.pb.h"

namespace kvlab::policies {
namespace {

class KeyDiffPolicy : public ScoredEvictionPolicy {
 public:
  std::string Name() const override { return "keydiff"; }
  PolicyNeeds Needs() const override {
    PolicyNeeds needs;
    needs.keys = true;
    return needs;
  }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    const at::Tensor& keys = context.keys;  // [kv_heads, length, head_dim]
    // F.normalize's and F.cosine_similarity's floors on the norms, so that a zero key
    // scores 0 rather than NaN.
    const at::Tensor unit = keys / keys.norm(2, -1, /*keepdim=*/true).clamp_min(1e-12);
    const at::Tensor anchor = unit.mean(1, /*keepdim=*/true);  // [kv_heads, 1, head_dim]
    const at::Tensor dot = (keys * anchor).sum(-1);
    const at::Tensor norms =
        keys.norm(2, -1).clamp_min(1e-8) * anchor.norm(2, -1).clamp_min(1e-8);
    return -(dot / norms);
  }
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeKeyDiffPolicy(const KeyDiffOptions&) {
  return std::make_unique<KeyDiffPolicy>();
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(keydiff, KeyDiffOptions, MakeKeyDiffPolicy);

}  // namespace kvlab::policies
