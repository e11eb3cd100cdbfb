// "sink": StreamingLLM's attention sinks plus a recent window.
//
// Xiao et al., "Efficient Streaming Language Models with Attention Sinks", ICLR 2024.
// https://arxiv.org/abs/2309.17453
#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "core/scored_eviction_policy.h"
#include "policies/sink.pb.h"

namespace kvlab::policies {
namespace {

class SinkPolicy : public ScoredEvictionPolicy {
 public:
  explicit SinkPolicy(int64_t sink_tokens) : sink_tokens_(sink_tokens) {}
  std::string Name() const override { return "sink"; }

 protected:
  // Recency ranks the non-sink tokens, so the window is the most recent.
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    return context.positions.to(at::kFloat);
  }
  ProtectedTokens Protected(const EvictionContext&) const override {
    return {sink_tokens_, /*recent_tokens=*/0};
  }

 private:
  int64_t sink_tokens_;
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeSinkPolicy(const SinkOptions& options) {
  const int64_t sinks = options.has_sink_tokens() ? options.sink_tokens() : 4;
  if (sinks < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("sink.sink_tokens must be >= 0, got %d", sinks));
  }
  return std::make_unique<SinkPolicy>(sinks);
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(sink, SinkOptions, MakeSinkPolicy);

}  // namespace kvlab::policies
