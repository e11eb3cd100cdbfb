// prefill_compress: windows of a context run in one forward and a decode scored token
// by token (PrefillWindows); an evicting cache evicts after every step that leaves a
// layer over its budget, the decode included, so it never holds more than the budget
// between steps.
#include "experiments/protocols/prefill_windows.h"

namespace kvlab::experiments {
namespace {

class PrefillCompress : public PrefillWindows {
 public:
  std::string Name() const override { return "prefill_compress"; }
  const config::PrefillCompressProtocol& Windows(const config::Experiment& e) const override {
    return e.prefill_compress();
  }
  config::PrefillCompressProtocol& MutableWindows(config::Experiment& e) const override {
    return *e.mutable_prefill_compress();
  }
  // The context arrives in one step, before the first eviction.
  int64_t TokensPerStep(const config::Experiment& e) const override {
    return e.prefill_compress().context_tokens();
  }
};

}  // namespace

KVLAB_REGISTER_PROTOCOL(prefill_compress, PrefillCompress);

}  // namespace kvlab::experiments
