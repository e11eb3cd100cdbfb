// "h2o": heavy hitters (largest accumulated attention) plus recent tokens. Scores come
// only from queries already processed, so the policy is causal.
//
// Zhang et al., "H2O: Heavy-Hitter Oracle for Efficient Generative Inference of Large
// Language Models", NeurIPS 2023. https://arxiv.org/abs/2306.14048
#include <ATen/ATen.h>

#include <cmath>

#include "absl/strings/str_format.h"
#include "core/scored_eviction_policy.h"
#include "policies/h2o.pb.h"

namespace kvlab::policies {
namespace {

class H2oPolicy : public ScoredEvictionPolicy {
 public:
  H2oPolicy(double recent_fraction, int64_t recent_tokens)
      : recent_fraction_(recent_fraction), recent_tokens_(recent_tokens) {}
  std::string Name() const override { return "h2o"; }
  PolicyNeeds Needs() const override {
    PolicyNeeds needs;
    needs.accumulated_attention = true;
    return needs;
  }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    return context.accumulated_attention;
  }
  ProtectedTokens Protected(const EvictionContext& context) const override {
    const int64_t recent =
        recent_tokens_ > 0 ? recent_tokens_
                           : static_cast<int64_t>(std::llround(recent_fraction_ * context.budget));
    return {/*sink_tokens=*/0, recent};
  }

 private:
  double recent_fraction_;
  int64_t recent_tokens_;
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeH2oPolicy(const H2oOptions& options) {
  const double fraction = options.has_recent_fraction() ? options.recent_fraction() : 0.5;
  if (!(fraction >= 0.0 && fraction <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("h2o.recent_fraction must be in [0, 1], got %g", fraction));
  }
  if (options.recent_tokens() < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("h2o.recent_tokens must be >= 0, got %d", options.recent_tokens()));
  }
  return std::make_unique<H2oPolicy>(fraction, options.recent_tokens());
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(h2o, H2oOptions, MakeH2oPolicy);

}  // namespace kvlab::policies
