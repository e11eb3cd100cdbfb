// An eviction policy written outside kvlab's own folders: it registers by name and
// runs from a config with no change to core/. See examples/BUILD for how a binary
// picks it up.
#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "core/scored_eviction_policy.h"
#include "examples/strided.pb.h"

namespace kvlab::examples {
namespace {

class StridedPolicy : public ScoredEvictionPolicy {
 public:
  StridedPolicy(int64_t stride, ProtectedTokens keep) : stride_(stride), keep_(keep) {}
  std::string Name() const override { return "strided"; }

 protected:
  // On-stride tokens score in [1, 2), others in [0, 1); recency orders each group.
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    const at::Tensor positions = context.positions.to(at::kFloat);
    const at::Tensor on_stride = (context.positions % stride_ == 0).to(at::kFloat);
    return on_stride + positions / static_cast<float>(context.step + 1);
  }
  ProtectedTokens Protected(const EvictionContext&) const override { return keep_; }

 private:
  int64_t stride_;
  ProtectedTokens keep_;
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeStridedPolicy(const StridedOptions& options) {
  const int64_t stride = options.has_stride() ? options.stride() : 4;
  const int64_t sinks = options.has_sink_tokens() ? options.sink_tokens() : 4;
  const int64_t recent = options.has_recent_tokens() ? options.recent_tokens() : 64;
  if (stride < 1 || sinks < 0 || recent < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "strided needs stride >= 1, sink_tokens >= 0, recent_tokens >= 0; got %d, %d, %d",
        stride, sinks, recent));
  }
  return std::make_unique<StridedPolicy>(stride, ProtectedTokens{sinks, recent});
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(strided, StridedOptions, MakeStridedPolicy);

}  // namespace kvlab::examples
