// "lagkv": score each partition of tokens by its keys' and values' spread relative to
// the next partition's range.
//
// Liang et al., "LagKV: Lag-Relative Information of the KV Cache Tells Which Tokens
// Are Important", 2025. https://arxiv.org/abs/2504.04704
//
// As kvpress's LagKVPress (presses/lagkv_press.py), per KV head, on the held keys
// (rotated, as kvpress's cache holds them) and values: after `sink_tokens`, the held
// tokens are cut into P = (length - sinks) / lag partitions; partition i < P - 1 is
// scaled channel by channel to partition i + 1's [min, max], each token's score is
// the standard deviation (unbiased, as torch's std) of its scaled channels, and a
// softmax over the partition's tokens; the key and value scores are averaged, then
// ranked within the partition (rank / lag) unless cross_scoring. The sinks, the last
// full partition and the tokens after it are always kept (kvpress scores them 1, above
// every rank); a budget smaller than they are keeps the sinks, then the most recent,
// where kvpress's top-k takes any of the equal scores.
#include <ATen/ATen.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "core/scored_eviction_policy.h"
#include "policies/lagkv.pb.h"

namespace kvlab::policies {
namespace {

// [heads, partitions, lag, d] -> [heads, partitions - 1, lag]: each partition against
// the next.
at::Tensor LagRelativeScore(const at::Tensor& partitions) {
  const int64_t count = partitions.size(1);
  const at::Tensor reference = partitions.narrow(1, 1, count - 1);
  const at::Tensor scored = partitions.narrow(1, 0, count - 1);
  const at::Tensor low = std::get<0>(reference.min(2, /*keepdim=*/true));
  const at::Tensor high = std::get<0>(reference.max(2, /*keepdim=*/true));
  return ((scored - low) / (high - low)).std(-1, /*unbiased=*/true).softmax(-1);
}

class LagKvPolicy : public ScoredEvictionPolicy {
 public:
  LagKvPolicy(int64_t sinks, int64_t lag, bool cross_scoring)
      : sinks_(sinks), lag_(lag), cross_scoring_(cross_scoring) {}
  std::string Name() const override { return "lagkv"; }
  PolicyNeeds Needs() const override {
    PolicyNeeds needs;
    needs.keys = true;
    needs.values = true;
    return needs;
  }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    const at::Tensor& keys = context.keys;  // [kv_heads, length, d]
    const int64_t heads = keys.size(0);
    const int64_t length = keys.size(1);
    const int64_t d = keys.size(2);
    // Too short to score: every token is protected (Protected()).
    if (length < sinks_ + 2 * lag_) return at::zeros({heads, length}, keys.options());
    const int64_t count = (length - sinks_) / lag_;
    const int64_t end = sinks_ + count * lag_;
    const auto partitions = [&](const at::Tensor& x) {
      return x.narrow(1, sinks_, end - sinks_).reshape({heads, count, lag_, d});
    };
    at::Tensor scores =
        (LagRelativeScore(partitions(keys)) + LagRelativeScore(partitions(context.values))) / 2;
    if (!cross_scoring_) {
      scores = scores.argsort(/*dim=*/-1, /*descending=*/false)
                   .argsort(/*dim=*/-1, /*descending=*/false)
                   .to(at::kFloat) /
               static_cast<double>(lag_);
    }
    // The sinks and the tail are protected; their scores only have to be defined.
    return at::cat({at::zeros({heads, sinks_}, keys.options()), scores.reshape({heads, -1}),
                    at::zeros({heads, Tail(length)}, keys.options())},
                   1);
  }
  ProtectedTokens Protected(const EvictionContext& context) const override {
    return {sinks_, Tail(context.positions.size(1))};
  }

 private:
  // The tokens after the last scored partition: the last full partition and the rest;
  // with fewer than two partitions, every token after the sinks.
  int64_t Tail(int64_t length) const {
    if (length < sinks_ + 2 * lag_) return std::max<int64_t>(0, length - sinks_);
    return lag_ + (length - sinks_) % lag_;
  }

  int64_t sinks_;
  int64_t lag_;
  bool cross_scoring_;
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeLagKvPolicy(const LagKvOptions& options) {
  // Defaults: kvpress's LagKVPress (lagkv.proto).
  const int64_t sinks = options.has_sink_tokens() ? options.sink_tokens() : 4;
  const int64_t lag = options.has_lag_size() ? options.lag_size() : 128;
  if (sinks < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("lagkv.sink_tokens must be >= 0, got %d", sinks));
  }
  if (lag < 2) {
    return absl::InvalidArgumentError(absl::StrFormat("lagkv.lag_size must be >= 2, got %d", lag));
  }
  return std::make_unique<LagKvPolicy>(sinks, lag, options.cross_scoring());
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(lagkv, LagKvOptions, MakeLagKvPolicy);

}  // namespace kvlab::policies
