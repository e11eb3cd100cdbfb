// "window": a sliding window of the most recent tokens, the "window attention"
// baseline of StreamingLLM: Xiao et al., "Efficient Streaming Language Models with
// Attention Sinks", ICLR 2024. https://arxiv.org/abs/2309.17453
#include <ATen/ATen.h>

#include "core/scored_eviction_policy.h"
#include "policies/window.pb.h"

namespace kvlab::policies {
namespace {

class WindowPolicy : public ScoredEvictionPolicy {
 public:
  std::string Name() const override { return "window"; }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    return context.positions.to(at::kFloat);
  }
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeWindowPolicy(const WindowOptions&) {
  return std::make_unique<WindowPolicy>();
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(window, WindowOptions, MakeWindowPolicy);

}  // namespace kvlab::policies
