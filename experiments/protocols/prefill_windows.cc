#include "experiments/protocols/prefill_windows.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace kvlab::experiments {

absl::Status PrefillWindows::FillDefaultsAndValidate(config::Experiment& e) const {
  config::PrefillCompressProtocol& p = MutableWindows(e);
  const std::string field = Name();
  if (p.context_tokens() < 1 || p.scored_tokens() < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s.context_tokens and scored_tokens must be >= 1, got %d and %d", field,
                        p.context_tokens(), p.scored_tokens()));
  }
  if (p.shared_prefill() && Schedule(e) != EvictionSchedule::kOnceAfterPrefill) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s.shared_prefill needs caches that compress once after the prefill (compress_once); "
        "%s evicts inside it",
        field, field));
  }
  if (!p.has_max_windows()) p.set_max_windows(1);
  if (p.max_windows() < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s.max_windows must be >= 0, got %d", field, p.max_windows()));
  }
  return absl::OkStatus();
}

config::BosMode PrefillWindows::Bos(const config::Experiment& e) const { return Windows(e).bos(); }

int64_t PrefillWindows::BudgetReferenceTokens(const config::Experiment& e, int64_t) const {
  return Windows(e).context_tokens();
}

ProtocolExtent PrefillWindows::Extent(const config::Experiment& e, int64_t text_tokens) const {
  const config::PrefillCompressProtocol& p = Windows(e);
  const int64_t window = p.context_tokens() + p.scored_tokens();
  int64_t windows = text_tokens / window;
  if (p.max_windows() > 0) windows = std::min<int64_t>(windows, p.max_windows());
  return {windows * p.scored_tokens(), window, Name() + ".context_tokens + scored_tokens"};
}

absl::StatusOr<std::vector<ProtocolOutcome>> PrefillWindows::Run(
    const config::Experiment& e, const ProtocolInputs& in,
    absl::Span<const KvCacheFactory> make_caches, ProgressBar& bar) const {
  // The two protocols differ only in the caches' eviction schedule (Schedule()), which
  // the runner gives the caches' factories.
  const config::PrefillCompressProtocol& p = Windows(e);
  eval::PrefillCompressOptions options;
  static_cast<eval::ScoringOptions&>(options) = ScoringFor(e, in.model);
  options.context_tokens = p.context_tokens();
  options.scored_tokens = p.scored_tokens();
  options.max_windows = p.max_windows();
  options.bos_id = in.tokenizer.bos_id();
  options.replace_first_with_bos = in.bos;
  options.shared_prefill = p.shared_prefill();
  KVLAB_ASSIGN_OR_RETURN(
      std::vector<eval::PerplexityResult> results,
      eval::RunPrefillCompress(in.model, in.tokens, options, make_caches,
                               [&bar](int64_t done, int64_t total) { bar.Update(done, total); }));
  return PerplexityOutcomes(std::move(results));
}

}  // namespace kvlab::experiments
