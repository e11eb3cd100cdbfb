// "snapkv": the observation window's attention to the prefix, pooled, plus the window.
//
// Li et al., "SnapKV: LLM Knows What You are Looking for Before Generation",
// NeurIPS 2024. https://arxiv.org/abs/2404.14469
//
// As SnapKV's reference code (snapkv/monkeypatch/snapkv_utils.py:45-69): the last
// `window` queries' attention rows (softmax over every held token) are summed over the
// queries; only the prefix, the tokens before the window, is scored and pooled, so the
// pooling never reaches into the window; the window itself is always kept.
#include <ATen/ATen.h>

#include <limits>

#include "absl/strings/str_format.h"
#include "core/scored_eviction_policy.h"
#include "policies/snapkv.pb.h"

namespace kvlab::policies {
namespace {

class SnapKvPolicy : public ScoredEvictionPolicy {
 public:
  SnapKvPolicy(int64_t window, int64_t kernel, SnapKvOptions::Pooling pooling)
      : window_(window), kernel_(kernel), pooling_(pooling) {}
  std::string Name() const override { return "snapkv"; }
  PolicyNeeds Needs() const override {
    PolicyNeeds needs;
    needs.recent_queries = window_;
    return needs;
  }
  int64_t ObservationWindow() const override { return window_; }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    const at::Tensor& rows = context.recent_attention;  // [kv_heads, queries, length]
    const int64_t length = rows.size(2);
    const int64_t prefix = length - std::min(window_, length);
    // The window is protected (Protected()); its score only has to be defined.
    at::Tensor scores = at::full({rows.size(0), length}, std::numeric_limits<float>::infinity(),
                                 rows.options());
    if (prefix == 0) return scores;
    // [kv_heads, 1, prefix]: the votes each prefix token got from the window. Sum or
    // mean over the queries ranks alike; the group's mean is already taken.
    const at::Tensor votes = rows.narrow(2, 0, prefix).sum(1).unsqueeze(1);
    const int64_t padding = kernel_ / 2;
    const at::Tensor pooled =
        pooling_ == SnapKvOptions::MAX
            ? at::max_pool1d(votes, {kernel_}, /*stride=*/{1}, {padding})
            : at::avg_pool1d(votes, {kernel_}, /*stride=*/{1}, {padding},
                             /*ceil_mode=*/false, /*count_include_pad=*/true);
    scores.narrow(1, 0, prefix).copy_(pooled.squeeze(1));
    return scores;
  }
  ProtectedTokens Protected(const EvictionContext&) const override { return {0, window_}; }

 private:
  int64_t window_;
  int64_t kernel_;
  SnapKvOptions::Pooling pooling_;
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeSnapKvPolicy(const SnapKvOptions& options) {
  // Defaults: the paper's LongBench runs (see snapkv.proto).
  const int64_t window = options.has_window() ? options.window() : 32;
  const int64_t kernel = options.has_kernel_size() ? options.kernel_size() : 7;
  const SnapKvOptions::Pooling pooling =
      options.has_pooling() ? options.pooling() : SnapKvOptions::MAX;
  if (window < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("snapkv.window must be >= 1, got %d", window));
  }
  if (kernel < 1 || kernel % 2 == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("snapkv.kernel_size must be odd and >= 1, got %d", kernel));
  }
  if (pooling != SnapKvOptions::AVERAGE && pooling != SnapKvOptions::MAX) {
    return absl::InvalidArgumentError(
        absl::StrFormat("snapkv.pooling must be AVERAGE or MAX, got %d", pooling));
  }
  if (options.gqa_aggregation() != SnapKvOptions::GQA_MEAN) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "snapkv.gqa_aggregation must be GQA_MEAN, got %d", options.gqa_aggregation()));
  }
  return std::make_unique<SnapKvPolicy>(window, kernel, pooling);
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(snapkv, SnapKvOptions, MakeSnapKvPolicy);

}  // namespace kvlab::policies
