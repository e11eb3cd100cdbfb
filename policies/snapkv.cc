// "snapkv": observation-window attention, pooled, plus the window.
//
// Li et al., "SnapKV: LLM Knows What You are Looking for Before Generation",
// NeurIPS 2024. https://arxiv.org/abs/2404.14469
#include <ATen/ATen.h>

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

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    // [kv_heads, queries, length] -> attention each token got from the window.
    const at::Tensor votes = context.recent_attention.sum(1).unsqueeze(1);
    const int64_t padding = kernel_ / 2;
    const at::Tensor pooled =
        pooling_ == SnapKvOptions::MAX
            ? at::max_pool1d(votes, {kernel_}, /*stride=*/{1}, {padding})
            : at::avg_pool1d(votes, {kernel_}, /*stride=*/{1}, {padding});
    return pooled.squeeze(1);
  }
  ProtectedTokens Protected(const EvictionContext&) const override { return {0, window_}; }

 private:
  int64_t window_;
  int64_t kernel_;
  SnapKvOptions::Pooling pooling_;
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeSnapKvPolicy(const SnapKvOptions& options) {
  const int64_t window = options.has_window() ? options.window() : 32;
  const int64_t kernel = options.has_kernel_size() ? options.kernel_size() : 5;
  if (window < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("snapkv.window must be >= 1, got %d", window));
  }
  if (kernel < 1 || kernel % 2 == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("snapkv.kernel_size must be odd and >= 1, got %d", kernel));
  }
  return std::make_unique<SnapKvPolicy>(window, kernel, options.pooling());
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(snapkv, SnapKvOptions, MakeSnapKvPolicy);

}  // namespace kvlab::policies
