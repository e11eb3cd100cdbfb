// compress_once: the windows of prefill_compress (PrefillWindows), but an evicting
// cache compresses each window's context once, after the prefill, scored with the
// prefill's queries; the decode appends without evicting, so the cache grows to its
// budget plus scored_tokens. This is how SnapKV, PyramidKV and kvpress compress a
// prompt.
#include "experiments/protocols/prefill_windows.h"

namespace kvlab::experiments {
namespace {

class CompressOnce : public PrefillWindows {
 public:
  std::string Name() const override { return "compress_once"; }
  const config::PrefillCompressProtocol& Windows(const config::Experiment& e) const override {
    return e.compress_once();
  }
  config::PrefillCompressProtocol& MutableWindows(config::Experiment& e) const override {
    return *e.mutable_compress_once();
  }
  EvictionSchedule Schedule(const config::Experiment&) const override {
    return EvictionSchedule::kOnceAfterPrefill;
  }
  // The decode grows the cache: it can see the whole window.
  int64_t TokensPerStep(const config::Experiment&) const override { return 0; }
};

}  // namespace

KVLAB_REGISTER_PROTOCOL(compress_once, CompressOnce);

}  // namespace kvlab::experiments
