// "knorm": keep the keys with the smallest L2 norm.
//
// Devoto et al., "A Simple and Effective L2 Norm-Based Strategy for KV Cache
// Compression", EMNLP 2024. https://arxiv.org/abs/2406.11430
#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/scored_eviction_policy.h"
#include "policies/knorm.pb.h"

namespace kvlab::policies {
namespace {

class KnormPolicy : public ScoredEvictionPolicy {
 public:
  KnormPolicy(ProtectedTokens keep, std::vector<int> uncompressed_layers)
      : keep_(keep), uncompressed_layers_(std::move(uncompressed_layers)) {}
  std::string Name() const override { return "knorm"; }
  bool CompressesLayer(int layer) const override {
    return std::find(uncompressed_layers_.begin(), uncompressed_layers_.end(), layer) ==
           uncompressed_layers_.end();
  }
  PolicyNeeds Needs() const override {
    PolicyNeeds needs;
    needs.key_norms = true;
    return needs;
  }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    return -context.key_norms;
  }
  ProtectedTokens Protected(const EvictionContext&) const override { return keep_; }

 private:
  ProtectedTokens keep_;
  std::vector<int> uncompressed_layers_;
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeKnormPolicy(const KnormOptions& options) {
  if (options.sink_tokens() < 0 || options.recent_tokens() < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "knorm.sink_tokens and knorm.recent_tokens must be >= 0, got %d and %d",
        options.sink_tokens(), options.recent_tokens()));
  }
  // Default: layer 0, as the paper's runs (knorm.proto).
  std::vector<int> uncompressed = {0};
  if (options.has_uncompressed_layers()) {
    uncompressed.assign(options.uncompressed_layers().layers().begin(),
                        options.uncompressed_layers().layers().end());
  }
  for (const int layer : uncompressed) {
    if (layer < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "knorm.uncompressed_layers.layers must be >= 0, got %d", layer));
    }
  }
  return std::make_unique<KnormPolicy>(
      ProtectedTokens{options.sink_tokens(), options.recent_tokens()}, std::move(uncompressed));
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(knorm, KnormOptions, MakeKnormPolicy);

}  // namespace kvlab::policies
