// "tova": keep what the current query attends to most.
//
// Oren et al., "Transformers are Multi-State RNNs" (TOVA: Token Omission Via
// Attention), EMNLP 2024. https://arxiv.org/abs/2401.06104
#include <ATen/ATen.h>

#include "core/scored_eviction_policy.h"
#include "policies/tova.pb.h"

namespace kvlab::policies {
namespace {

class TovaPolicy : public ScoredEvictionPolicy {
 public:
  TovaPolicy(bool per_head, bool keep_last_token)
      : per_head_(per_head), keep_last_token_(keep_last_token) {}
  std::string Name() const override { return "tova"; }
  PolicyNeeds Needs() const override {
    PolicyNeeds needs;
    needs.recent_queries = 1;
    return needs;
  }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    // The latest query's row: [kv_heads, length].
    const at::Tensor last = context.recent_attention.select(1, -1);
    return per_head_ ? last : last.mean(0, /*keepdim=*/true);
  }
  // kvpress's TOVAPress (tova.proto's keep_last_token): the newest token is kept
  // whatever its score; the others rank as before.
  ProtectedTokens Protected(const EvictionContext&) const override {
    return {/*sink_tokens=*/0, /*recent_tokens=*/keep_last_token_ ? 1 : 0};
  }

 private:
  bool per_head_;
  bool keep_last_token_;
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeTovaPolicy(const TovaOptions& options) {
  return std::make_unique<TovaPolicy>(options.per_head(), options.keep_last_token());
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(tova, TovaOptions, MakeTovaPolicy);

}  // namespace kvlab::policies
