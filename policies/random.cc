// "random": uniformly random eviction, the baseline every table needs (no paper of
// its own).
#include <ATen/ATen.h>

#include <random>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/scored_eviction_policy.h"
#include "policies/random.pb.h"

namespace kvlab::policies {
namespace {

class RandomPolicy : public ScoredEvictionPolicy {
 public:
  RandomPolicy(uint64_t seed, ProtectedTokens keep) : seed_(seed), keep_(keep) {}
  std::string Name() const override { return "random"; }

 protected:
  absl::StatusOr<at::Tensor> Score(const EvictionContext& context) override {
    if (!seeded_) {
      // Sequence 0 draws from the seed itself; every later sequence (the next window
      // or chunk, from a fresh cache) from a stream of its own.
      engine_.seed(context.sequence == 0
                       ? seed_
                       : SplitMix64(seed_ ^ SplitMix64(static_cast<uint64_t>(context.sequence))));
      seeded_ = true;
    }
    std::vector<float> scores(context.positions.numel());
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    for (float& s : scores) s = uniform(engine_);
    return at::tensor(scores).view(context.positions.sizes()).to(context.positions.device());
  }
  ProtectedTokens Protected(const EvictionContext&) const override { return keep_; }

 private:
  // Steele, Lea and Flood's SplitMix64 finalizer: nearby inputs give unrelated seeds.
  static uint64_t SplitMix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }

  uint64_t seed_;
  bool seeded_ = false;
  std::mt19937_64 engine_;
  ProtectedTokens keep_;
};

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeRandomPolicy(const RandomOptions& options) {
  if (options.sink_tokens() < 0 || options.recent_tokens() < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "random.sink_tokens and random.recent_tokens must be >= 0, got %d and %d",
        options.sink_tokens(), options.recent_tokens()));
  }
  return std::make_unique<RandomPolicy>(
      options.seed(), ProtectedTokens{options.sink_tokens(), options.recent_tokens()});
}

}  // namespace

KVLAB_REGISTER_EVICTION_POLICY(random, RandomOptions, MakeRandomPolicy);

}  // namespace kvlab::policies
