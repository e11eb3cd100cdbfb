// "cake": CAKE's eviction indicator and layer preferences.
//
// Qin et al., "CAKE: Cascading and Adaptive KV Cache Eviction with Layer
// Preferences", ICLR 2025. https://arxiv.org/abs/2503.12491
//
// As the authors' code (antgroup/cakekv, cake/model/modify_llama.py:90-126, per
// query head, then the mean over the heads that share a KV head): the last
// `window` queries' attention rows A (softmax over every held token) score each
// prefix token (the tokens before the window) by mean(A) + gamma x var(A) over
// the window's queries (unbiased, as torch.var), average-pooled over
// `kernel_size` neighbours; the window is always kept. The layer's preference
// is H^(1/tau1) x V^(1/tau2), H the entropy -sum A log(A + 1e-10) and V the
// summed variance, both over every query head, window query and prefix token.
// EvictingKvCache shares the budget out over the layers by these preferences in
// CAKE's cascade (evicting_kv_cache.h).
#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "core/scored_eviction_policy.h"
#include "policies/cake.pb.h"

namespace kvlab::policies {
namespace {

class CakePolicy : public ScoredEvictionPolicy {
 public:
  CakePolicy(int64_t window, int64_t kernel, double gamma, double tau1, double tau2)
      : window_(window), kernel_(kernel), gamma_(gamma), tau1_(tau1), tau2_(tau2) {}
  std::string Name() const override { return "cake"; }
  PolicyNeeds Needs() const override {
    PolicyNeeds needs;
    needs.recent_queries = window_;
    needs.recent_by_query_head = true;
    return needs;
  }
  int64_t ObservationWindow() const override { return window_; }
  bool AllocatesLayers() const override { return true; }

  absl::StatusOr<double> LayerPreference(const EvictionContext& context) override {
    const at::Tensor prefix_rows = PrefixRows(context);
    if (!prefix_rows.defined()) return 0.0;
    const double entropy = -(prefix_rows * (prefix_rows + 1e-10).log()).sum().item<double>();
    const double variance = prefix_rows.var(/*dim=*/2, /*unbiased=*/true).sum().item<double>();
    return std::pow(entropy, 1.0 / tau1_) * std::pow(variance, 1.0 / tau2_);
  }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    const at::Tensor& rows = context.recent_attention_by_query_head;  // [kv, group, q, length]
    const int64_t kv_heads = rows.size(0);
    const int64_t length = rows.size(3);
    // The window is protected (Protected()); its score only has to be defined.
    at::Tensor scores =
        at::full({kv_heads, length}, std::numeric_limits<float>::infinity(), rows.options());
    const at::Tensor prefix_rows = PrefixRows(context);
    if (!prefix_rows.defined()) return scores;
    const int64_t prefix = prefix_rows.size(3);
    const int64_t group = prefix_rows.size(1);
    // [kv_heads x group, 1, prefix]: each query head's indicator, pooled, then
    // the group's mean.
    const at::Tensor indicator =
        (prefix_rows.mean(2) + gamma_ * prefix_rows.var(2, /*unbiased=*/true))
            .reshape({kv_heads * group, 1, prefix});
    const at::Tensor pooled = at::avg_pool1d(indicator, {kernel_}, /*stride=*/{1}, {kernel_ / 2},
                                             /*ceil_mode=*/false, /*count_include_pad=*/true)
                                  .view({kv_heads, group, prefix})
                                  .mean(1);
    scores.narrow(1, 0, prefix).copy_(pooled);
    return scores;
  }
  ProtectedTokens Protected(const EvictionContext&) const override { return {0, window_}; }

 private:
  // [kv_heads, group, queries, prefix]: the window's rows over the tokens
  // before the window; undefined when there are none, or fewer than two queries
  // to vary over.
  at::Tensor PrefixRows(const EvictionContext& context) const {
    const at::Tensor& rows = context.recent_attention_by_query_head;
    const int64_t length = rows.size(3);
    const int64_t prefix = length - std::min(window_, length);
    if (prefix == 0 || rows.size(2) < 2) return at::Tensor();
    return rows.narrow(3, 0, prefix);
  }

  int64_t window_;
  int64_t kernel_;
  double gamma_;
  double tau1_;
  double tau2_;
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeCakePolicy(const CakeOptions& options) {
  // Defaults: the authors' LongBench script (cake.proto).
  const int64_t window = options.has_window() ? options.window() : 32;
  const int64_t kernel = options.has_kernel_size() ? options.kernel_size() : 5;
  const double gamma = options.has_gamma() ? options.gamma() : 200.0;
  const double tau1 = options.has_tau1() ? options.tau1() : 1.0;
  const double tau2 = options.has_tau2() ? options.tau2() : 1.0;
  if (window < 2) {
    return absl::InvalidArgumentError(absl::StrFormat("cake.window must be >= 2, got %d", window));
  }
  if (kernel < 1 || kernel % 2 == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("cake.kernel_size must be odd and >= 1, got %d", kernel));
  }
  if (!(gamma >= 0.0) || !std::isfinite(gamma)) {
    return absl::InvalidArgumentError(absl::StrFormat("cake.gamma must be >= 0, got %g", gamma));
  }
  if (!(tau1 > 0.0) || !(tau2 > 0.0) || !std::isfinite(tau1) || !std::isfinite(tau2)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("cake.tau1 and cake.tau2 must be > 0, got %g and %g", tau1, tau2));
  }
  return std::make_unique<CakePolicy>(window, kernel, gamma, tau1, tau2);
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(cake, CakeOptions, MakeCakePolicy);

}  // namespace kvlab::policies
