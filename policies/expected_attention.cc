// "expected_attention": keep the tokens that future queries are expected to attend.
//
// Devoto et al., "Expected Attention: KV Cache Compression by Estimating Attention
// from Future Queries Distribution", 2025. https://arxiv.org/abs/2510.00636
//
// As the authors' kvpress ExpectedAttentionPress (presses/expected_attention_press.py):
//   1. mean mu and covariance S (divided by the count) of the step's queries before
//      rotation, per query head, leaving out the queries at the first sink_tokens
//      positions;
//   2. the rotation averaged over the next `future_positions` positions,
//      R = mean_t R(t), applied: mu' = R mu, S' = R S R^T;
//   3. for each held key k (rotated, as the cache holds it) after the sinks, the log of
//      the expected exp(q.k / sqrt(d)) under q ~ N(mu', S'):
//      mu'.k / sqrt(d) + k^T S' k / (2 d), a softmax over the tokens per query head,
//      the mean over the heads that share the KV head;
//   4. (that + epsilon) times the value's L2 norm; the sinks above every score.
// R is built by rotating the identity with the layer's own rotary embedding, so any
// rotary layout, partial rotary dimension or frequency scaling of the model is the
// one its keys were rotated with.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"
#include "core/rotary_embedding.h"
#include "core/scored_eviction_policy.h"
#include "policies/expected_attention.pb.h"

namespace kvlab::policies {
namespace {

struct Settings {
  int64_t sinks = 4;
  int64_t future_positions = 512;
  bool use_covariance = true;
  bool use_value_norm = true;
  double epsilon = 0.0;
};

class ExpectedAttentionPolicy : public ScoredEvictionPolicy {
 public:
  explicit ExpectedAttentionPolicy(Settings settings) : settings_(settings) {}
  std::string Name() const override { return "expected_attention"; }
  PolicyNeeds Needs() const override {
    PolicyNeeds needs;
    needs.keys = true;
    needs.values = true;
    needs.queries = true;
    return needs;
  }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    const at::Tensor& keys = context.keys;  // [kv_heads, length, d]
    const int64_t kv_heads = keys.size(0);
    const int64_t length = keys.size(1);
    const int64_t d = keys.size(2);
    const int64_t q_heads = context.queries.size(0);
    const int64_t n = context.queries.size(1);
    const int64_t sinks = std::min(settings_.sinks, length);

    // 1. The step's queries past the sinks (all of them if none is).
    const int64_t step_start = context.step - n;  // Tokens before this step.
    int64_t skip = std::clamp<int64_t>(settings_.sinks - step_start, 0, n);
    if (skip == n) skip = 0;
    const at::Tensor queries = context.queries.narrow(1, skip, n - skip);
    const at::Tensor mean = queries.mean(1);  // [q_heads, d]

    // 2. rows[i] = mean_t R(t) e_i, so rows = R^T.
    const int64_t next = context.first_position + context.step;
    const int64_t f = settings_.future_positions;
    const at::Tensor identity = at::eye(d, keys.options()).unsqueeze(1).expand({d, f, d});
    const at::Tensor future = at::arange(next, next + f, keys.options().dtype(at::kLong));
    const at::Tensor rotation_t = context.rope->Apply(identity.contiguous(), future).mean(1);
    const at::Tensor rotated_mean = at::matmul(mean, rotation_t);  // (R mu)^T

    // 3. Keys after the sinks, repeated for each query head of their group.
    const int64_t group = q_heads / kv_heads;
    const at::Tensor k = keys.narrow(1, sinks, length - sinks).repeat_interleave(group, 0);
    at::Tensor logits =
        at::matmul(k, rotated_mean.unsqueeze(-1)).squeeze(-1) / std::sqrt(static_cast<double>(d));
    if (settings_.use_covariance) {
      const at::Tensor centered = queries - mean.unsqueeze(1);
      const at::Tensor covariance =
          at::matmul(centered.transpose(1, 2), centered) / static_cast<double>(n - skip);
      // R S R^T = rows^T S rows.
      const at::Tensor rotated_covariance =
          at::matmul(at::matmul(rotation_t.t(), covariance), rotation_t);
      logits += (at::matmul(k, rotated_covariance) * k).sum(-1) / static_cast<double>(d) / 2;
    }
    at::Tensor scores = logits.softmax(-1).view({kv_heads, group, length - sinks}).mean(1);

    // 4. Value norms; the sinks above everything.
    if (settings_.use_value_norm) {
      scores = (scores + settings_.epsilon) *
               context.values.narrow(1, sinks, length - sinks).norm(2, -1);
    }
    const at::Tensor top = scores.numel() > 0 ? scores.max() + 1 : at::ones({}, scores.options());
    return at::cat({top.expand({kv_heads, sinks}), scores}, 1);
  }

 private:
  Settings settings_;
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeExpectedAttentionPolicy(
    const ExpectedAttentionOptions& options) {
  // Defaults: kvpress's ExpectedAttentionPress (expected_attention.proto).
  Settings settings;
  if (options.has_sink_tokens()) settings.sinks = options.sink_tokens();
  if (options.has_future_positions()) settings.future_positions = options.future_positions();
  if (options.has_use_covariance()) settings.use_covariance = options.use_covariance();
  if (options.has_use_value_norm()) settings.use_value_norm = options.use_value_norm();
  settings.epsilon = options.epsilon();
  if (settings.sinks < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "expected_attention.sink_tokens must be >= 0, got %d", settings.sinks));
  }
  if (settings.future_positions < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "expected_attention.future_positions must be >= 1, got %d", settings.future_positions));
  }
  if (!(settings.epsilon >= 0.0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "expected_attention.epsilon must be >= 0, got %g", settings.epsilon));
  }
  return std::make_unique<ExpectedAttentionPolicy>(settings);
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(expected_attention, ExpectedAttentionOptions,
                               MakeExpectedAttentionPolicy);

}  // namespace kvlab::policies
