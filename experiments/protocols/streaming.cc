// streaming: one stream decoded token by token through each cache, every token after
// the first scored, with an NLL-by-position curve (config::StreamingProtocol,
// eval::RunStreaming).
#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {
namespace {

class Streaming : public Protocol {
 public:
  std::string Name() const override { return "streaming"; }

  absl::Status FillDefaultsAndValidate(config::Experiment& e) const override {
    config::StreamingProtocol& s = *e.mutable_streaming();
    if (s.bucket_size() == 0) s.set_bucket_size(256);
    if (s.bucket_size() < 1) {
      return absl::InvalidArgumentError(
          absl::StrFormat("streaming.bucket_size must be >= 1, got %d", s.bucket_size()));
    }
    if (s.max_tokens() < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("streaming.max_tokens must be >= 0, got %d", s.max_tokens()));
    }
    return absl::OkStatus();
  }

  config::BosMode Bos(const config::Experiment& e) const override {
    return e.streaming().bos();
  }

  // The streamed tokens.
  int64_t BudgetReferenceTokens(const config::Experiment& e, int64_t text_tokens) const override {
    return Streamed(e, text_tokens);
  }

  ProtocolExtent Extent(const config::Experiment& e, int64_t text_tokens) const override {
    const int64_t total = Streamed(e, text_tokens);
    return {std::max<int64_t>(total - 1, 0), total, "streaming.max_tokens (or the text's length)"};
  }

  int64_t TokensPerStep(const config::Experiment&) const override { return 1; }

  bool RecordsEvictions() const override { return true; }

  absl::StatusOr<std::vector<ProtocolOutcome>> Run(
      const config::Experiment& e, const ProtocolInputs& in,
      absl::Span<const KvCacheFactory> make_caches, ProgressBar& bar) const override {
    eval::StreamingOptions options;
    static_cast<eval::ScoringOptions&>(options) = ScoringFor(e, in.model);
    options.max_tokens = e.streaming().max_tokens();
    options.bucket_size = e.streaming().bucket_size();
    KVLAB_ASSIGN_OR_RETURN(
        std::vector<eval::PerplexityResult> results,
        eval::RunStreaming(in.model, in.tokens, options, make_caches,
                           [&bar](int64_t done, int64_t total) { bar.Update(done, total); }));
    return PerplexityOutcomes(std::move(results), e.streaming().bucket_size());
  }

 private:
  static int64_t Streamed(const config::Experiment& e, int64_t text_tokens) {
    return e.streaming().max_tokens() > 0 ? std::min(e.streaming().max_tokens(), text_tokens)
                                          : text_tokens;
  }
};

}  // namespace

KVLAB_REGISTER_PROTOCOL(streaming, Streaming);

}  // namespace kvlab::experiments
