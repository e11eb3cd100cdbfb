// chunked: llama.cpp's llama-perplexity protocol (config::ChunkedProtocol). The text is
// cut into non-overlapping chunks of n_ctx tokens, each run from an empty cache in one
// forward, its first token BOS (per `bos`), the second half scored
// (eval::RunChunked).
#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {
namespace {

class Chunked : public Protocol {
 public:
  std::string Name() const override { return "chunked"; }

  absl::Status FillDefaultsAndValidate(config::Experiment& e) const override {
    config::ChunkedProtocol& c = *e.mutable_chunked();
    if (c.n_ctx() == 0) c.set_n_ctx(512);
    if (c.n_ctx() < 4) {
      return absl::InvalidArgumentError(
          absl::StrFormat("chunked.n_ctx must be >= 4, got %d", c.n_ctx()));
    }
    if (c.max_chunks() < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("chunked.max_chunks must be >= 0, got %d", c.max_chunks()));
    }
    return absl::OkStatus();
  }

  // A chunk runs in one forward from an empty cache and is scored from that forward
  // alone: eviction after it would change nothing that is measured.
  absl::Status ValidateCache(const config::Experiment& e, int i) const override {
    if (!e.caches(i).has_eviction()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrFormat(
        "caches[%d] '%s': eviction has no effect under chunked (each chunk is scored from "
        "one forward); use streaming, prefill_compress or compress_once, or remove "
        "caches[%d].eviction",
        i, e.caches(i).name(), i));
  }

  config::BosMode Bos(const config::Experiment& e) const override { return e.chunked().bos(); }

  int64_t BudgetReferenceTokens(const config::Experiment& e, int64_t) const override {
    return e.chunked().n_ctx();
  }

  ProtocolExtent Extent(const config::Experiment& e, int64_t text_tokens) const override {
    const int64_t n_ctx = e.chunked().n_ctx();
    int64_t chunks = text_tokens / n_ctx;
    if (e.chunked().max_chunks() > 0) chunks = std::min<int64_t>(chunks, e.chunked().max_chunks());
    // llama.cpp scores positions n_ctx/2 + 1 .. n_ctx - 1 of each chunk.
    return {chunks * (n_ctx - n_ctx / 2 - 1), n_ctx, "chunked.n_ctx"};
  }

  int64_t TokensPerStep(const config::Experiment&) const override { return 1; }

  absl::StatusOr<std::vector<ProtocolOutcome>> Run(
      const config::Experiment& e, const ProtocolInputs& in,
      absl::Span<const KvCacheFactory> make_caches, ProgressBar& bar) const override {
    eval::ChunkedOptions options;
    static_cast<eval::ScoringOptions&>(options) = ScoringFor(e, in.model);
    options.n_ctx = e.chunked().n_ctx();
    options.max_chunks = e.chunked().max_chunks();
    options.bos_id = in.tokenizer.bos_id();
    options.replace_first_with_bos = in.bos;
    KVLAB_ASSIGN_OR_RETURN(
        std::vector<eval::PerplexityResult> results,
        eval::RunChunked(in.model, in.tokens, options, make_caches,
                         [&bar](int64_t done, int64_t total) { bar.Update(done, total); }));
    return PerplexityOutcomes(std::move(results));
  }
};

}  // namespace

KVLAB_REGISTER_PROTOCOL(chunked, Chunked);

}  // namespace kvlab::experiments
