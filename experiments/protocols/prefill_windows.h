// PrefillWindows: the base of the two protocols that share config::PrefillCompressProtocol
// (prefill_compress and compress_once): consecutive windows of context_tokens run in
// one forward, then scored_tokens decoded one at a time and scored
// (eval::RunPrefillCompress). They differ in when an evicting cache evicts, which each
// subclass says, and in the oneof field that holds their windows.
#ifndef KVLAB_EXPERIMENTS_PROTOCOLS_PREFILL_WINDOWS_H_
#define KVLAB_EXPERIMENTS_PROTOCOLS_PREFILL_WINDOWS_H_

#include <string>
#include <vector>

#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {

class PrefillWindows : public Protocol {
 public:
  // The windows in the protocol's own oneof field of `e`.
  virtual const config::PrefillCompressProtocol& Windows(const config::Experiment& e) const = 0;
  virtual config::PrefillCompressProtocol& MutableWindows(config::Experiment& e) const = 0;

  absl::Status FillDefaultsAndValidate(config::Experiment& e) const override;
  config::BosMode Bos(const config::Experiment& e) const override;
  // A window's context.
  int64_t BudgetReferenceTokens(const config::Experiment& e, int64_t text_tokens) const override;
  ProtocolExtent Extent(const config::Experiment& e, int64_t text_tokens) const override;
  bool RecordsEvictions() const override { return true; }
  absl::StatusOr<std::vector<ProtocolOutcome>> Run(const config::Experiment& e,
                                                   const ProtocolInputs& in,
                                                   absl::Span<const KvCacheFactory> make_caches,
                                                   ProgressBar& bar) const override;
};

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_PROTOCOLS_PREFILL_WINDOWS_H_
