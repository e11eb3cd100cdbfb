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
  H2oPolicy(double recent_fraction, int64_t recent_tokens, H2oOptions::Normalization normalization)
      : recent_fraction_(recent_fraction),
        recent_tokens_(recent_tokens),
        normalization_(normalization) {}
  std::string Name() const override { return "h2o"; }
  PolicyNeeds Needs() const override {
    PolicyNeeds needs;
    needs.accumulated_attention = true;
    return needs;
  }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    if (normalization_ == H2oOptions::SUM) return context.accumulated_attention;
    // QUERY_MEAN: every query since a token's position saw it (the cache held it
    // throughout, or it would not be scored now).
    const at::Tensor seen = (context.first_position + context.step - context.positions).to(at::kFloat);
    return context.accumulated_attention / seen;
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
  H2oOptions::Normalization normalization_;
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
  if (options.normalization() != H2oOptions::SUM &&
      options.normalization() != H2oOptions::QUERY_MEAN) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "h2o.normalization must be SUM or QUERY_MEAN, got %d", options.normalization()));
  }
  return std::make_unique<H2oPolicy>(fraction, options.recent_tokens(), options.normalization());
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(h2o, H2oOptions, MakeH2oPolicy);

}  // namespace kvlab::policies
